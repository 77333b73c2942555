import { randomBytes, timingSafeEqual } from 'node:crypto';
import { derivedDigestPassword } from './digest.js';
import { BlockList, isIP } from 'node:net';
import type { Store, Tx } from '../../daemon/store/store.js';
import type { Clock } from '../../daemon/kernel/clock.js';
import type { AuditLog } from '../../daemon/core/audit.js';
import type { Logger } from '../../daemon/kernel/log.js';
import { normalizeMac, refuse as deviceRefuse, type Devices } from '../../daemon/core/devices.js';
import { defineRefusals, entry, fixed } from '../../daemon/kernel/refusal.js';

const securityRefuse = defineRefusals({
  PROVSEC_SUBNET_INVALID: entry<{ subnet: string }>(400,
    (d) => ({ en: `"${d.subnet}" is not a subnet (e.g. 192.168.10.0/24 or 2001:db8::/64).`, de: `"${d.subnet}" ist kein Subnetz (z. B. 192.168.10.0/24 oder 2001:db8::/64).` }),
    fixed({ en: 'Give an address and a prefix length, or an empty value to unpin.', de: 'Geben Sie eine Adresse und eine Präfixlänge an, oder einen leeren Wert zum Aufheben.' })),
  PROVSEC_NOTHING_PENDING: entry<{ mac: string }>(409,
    (d) => ({ en: `Device ${d.mac} has no refused new address to decide on.`, de: `Für das Gerät ${d.mac} liegt keine abgewiesene neue Adresse zur Entscheidung vor.` }),
    fixed({ en: 'Open an enrolment window instead if the phone is about to move.', de: 'Öffnen Sie stattdessen ein Anmeldefenster, wenn das Telefon umziehen soll.' })),
});

/** Where a device may fetch its credentials from. Times are epoch milliseconds (0: none). */
interface DeviceLock {
  mac: string;
  /** The address of its last credential fetch, or null before the first. */
  ip: string | null;
  /** Pinned subnet ("10.1.2.0/24"): any address inside it, none outside. */
  subnet: string | null;
  lockedAt: number;
  /** Its own enrolment window (opened on assignment or by an admin). */
  enrolUntil: number;
  /** Another address that was refused (the Devices page badge). */
  pendingIp: string | null;
  pendingAt: number;
  pendingCount: number;
}

interface LockView {
  mac: string;
  ip: string | null;
  subnet: string | null;
  lockedAt: string | null;
  enrolUntil: string | null;
  pendingIp: string | null;
  pendingAt: string | null;
  pendingCount: number;
}

interface LockRow {
  mac: string;
  ip: string | null;
  subnet: string | null;
  locked_at: string | null;
  enrol_until: string | null;
  pending_ip: string | null;
  pending_at: string | null;
  pending_count: number;
}

/** What the lock says of a credential request from an address. */
type LockDecision = 'first' | 'same' | 'moved-in-window' | 'in-subnet' | 'foreign-address' | 'outside-subnet';

const ms = (iso: string | null): number => (iso ? Date.parse(iso) : 0);
const iso = (t: number): string | null => (t ? new Date(t).toISOString() : null);
/** Lock changes are written in batches this soon after the first (a boot storm locks thousands of phones). */
const LOCK_FLUSH_MS = 100;
const LOAD_PAGE = 1000;

/** An IPv4-mapped IPv6 address as the IPv4 address it is. */
const plainIp = (ip: string): string => (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip);

function parseSubnet(raw: string): { net: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(raw.trim());
  if (!m) return null;
  const v = isIP(m[1]!);
  const prefix = Number(m[2]);
  if (!v || prefix > (v === 4 ? 32 : 128)) return null;
  return { net: m[1]!, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

/** Each pinned subnet parsed once (a site pins devices to a few subnets; a pinned phone asks at every boot). */
const subnets = new Map<string, { list: BlockList; family: 'ipv4' | 'ipv6' } | null>();

function subnetOf(subnet: string): { list: BlockList; family: 'ipv4' | 'ipv6' } | null {
  let found = subnets.get(subnet);
  if (found === undefined) {
    const s = parseSubnet(subnet);
    found = s && { list: new BlockList(), family: s.family };
    found?.list.addSubnet(s!.net, s!.prefix, s!.family);
    if (subnets.size >= 10_000) subnets.clear();
    subnets.set(subnet, found);
  }
  return found;
}

function inSubnet(ip: string, subnet: string): boolean {
  const s = subnetOf(subnet);
  const a = plainIp(ip);
  const v = isIP(a);
  if (!s || !v || (v === 4 ? 'ipv4' : 'ipv6') !== s.family) return false;
  return s.list.check(a, s.family);
}

/**
 * The provisioning security state: the site key (and rotated-out keys still
 * valid), each device's lock, and the enrolment windows. Owns the tables
 * provisioning_keys, device_locks and enrolment_window. Held in memory so the
 * provisioning hot path never queries SQLite; lock moves are written in batches.
 * Knows nothing of HTTP.
 */
export class ProvisioningSecurity {
  private keys: Array<{ key: string; bytes: Buffer; expiresAt: number; digestPassword: string }> = [];
  private readonly locks = new Map<string, DeviceLock>();
  private windowUntil = 0;
  private readonly dirty = new Set<string>();
  /** Devices with a refused new address (the badges), so listing them does not walk every lock. */
  private readonly pendingMacs = new Set<string>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly devices: Devices,
    private readonly log: Logger,
  ) {}

  /** Load the state; make the site key at first start. */
  async load(): Promise<void> {
    const now = this.clock.now().toISOString();
    await this.store.write(async (tx) => {
      if (!(await tx.get('SELECT 1 FROM provisioning_keys WHERE expires_at IS NULL'))) {
        await tx.run('INSERT INTO provisioning_keys (key, created_at, digest_password) VALUES (?, ?, ?)', [newKey(), now, newDigestPassword()]);
        await this.audit.append(tx, 'system', 'provisioning.key.create', 'provisioning', {});
      }
    });
    await this.loadKeys();
    this.locks.clear();
    for (let after = ''; ; ) {
      const rows = await this.store.all<LockRow>('SELECT * FROM device_locks WHERE mac > ? ORDER BY mac LIMIT ?', [after, LOAD_PAGE]);
      for (const r of rows) {
        this.locks.set(r.mac, fromRow(r));
        if (r.pending_ip) this.pendingMacs.add(r.mac);
      }
      if (rows.length < LOAD_PAGE) break;
      after = rows[rows.length - 1]!.mac;
    }
    this.windowUntil = ms((await this.store.get<{ until: string }>('SELECT until FROM enrolment_window WHERE id = 1'))?.until ?? null);
    // A device that is deleted loses its lock (the row goes by ON DELETE CASCADE); one newly assigned may enrol.
    this.devices.onChange((macs, action) => {
      if (action === 'deleted') for (const m of macs) this.locks.delete(m), this.pendingMacs.delete(m);
    });
  }

  private async loadKeys(): Promise<void> {
    const rows = await this.store.all<{ key: string; expires_at: string | null; digest_password: string | null }>(
      'SELECT key, expires_at, digest_password FROM provisioning_keys ORDER BY expires_at IS NOT NULL, expires_at DESC',
    );
    // Worked out once here, not per request: a key made before migration 19 keeps its derived password.
    this.keys = rows.map((r) => ({ key: r.key, bytes: Buffer.from(r.key, 'latin1'), expiresAt: r.expires_at ? ms(r.expires_at) : Infinity, digestPassword: r.digest_password ?? derivedDigestPassword(r.key) }));
  }

  /** The current site key. */
  get key(): string {
    return this.keys[0]!.key;
  }

  /** Rotated-out keys still valid, with when they stop. */
  get previousKeys(): Array<{ expiresAt: string }> {
    const now = this.clock.now().getTime();
    return this.keys.slice(1).filter((k) => k.expiresAt > now).map((k) => ({ expiresAt: new Date(k.expiresAt).toISOString() }));
  }

  /** The HTTP digest password of the current key (what the admin sets on phones that take one). */
  get digestPassword(): string {
    return this.keys[0]!.digestPassword;
  }

  /** The digest passwords valid now: the current key's, and a rotated-out key's during its overlap. */
  validDigestPasswords(): string[] {
    const now = this.clock.now().getTime();
    return this.keys.filter((k, i) => i === 0 || k.expiresAt > now).map((k) => k.digestPassword);
  }

  /** Which key a path segment is: the current one, a rotated-out one still in its overlap, or none. */
  matchKey(segment: string): 'current' | 'previous' | null {
    const given = Buffer.from(segment, 'latin1');
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i]!;
      if (k.bytes.length === given.length && timingSafeEqual(k.bytes, given)) return i === 0 ? 'current' : k.expiresAt > this.clock.now().getTime() ? 'previous' : null;
    }
    return null;
  }

  /** A new site key; the old one keeps working for `overlapHours`. Keys past their overlap are dropped. */
  async rotate(overlapHours: number, by: string): Promise<{ expiresAt: string }> {
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + overlapHours * 3600_000).toISOString();
    await this.store.write(async (tx) => {
      await tx.run('DELETE FROM provisioning_keys WHERE expires_at IS NOT NULL AND expires_at <= ?', [now.toISOString()]);
      await tx.run('UPDATE provisioning_keys SET expires_at = ? WHERE expires_at IS NULL', [expiresAt]);
      await tx.run('INSERT INTO provisioning_keys (key, created_at, digest_password) VALUES (?, ?, ?)', [newKey(), now.toISOString(), newDigestPassword()]);
      // The key itself is a secret: the audit says when, by whom and how long the old one lasts.
      await this.audit.append(tx, by, 'provisioning.key.rotate', 'provisioning', { overlapHours, previousValidUntil: expiresAt });
    });
    await this.loadKeys();
    return { expiresAt };
  }

  lockOf(mac: string): DeviceLock | undefined {
    return this.locks.get(mac);
  }

  /** Whether an enrolment window is open for the device (its own, or the one for all). */
  windowOpen(mac: string, now = this.clock.now().getTime()): boolean {
    return now < this.windowUntil || now < (this.locks.get(mac)?.enrolUntil ?? 0);
  }

  get windowUntilIso(): string | null {
    return this.windowUntil > this.clock.now().getTime() ? iso(this.windowUntil) : null;
  }

  /** May the device fetch its credentials from `ip`? */
  check(mac: string, ip: string): LockDecision {
    const l = this.locks.get(mac);
    const a = plainIp(ip);
    if (l?.subnet) return inSubnet(a, l.subnet) ? 'in-subnet' : 'outside-subnet';
    if (!l?.ip) return 'first';
    if (l.ip === a) return 'same';
    return this.windowOpen(mac) ? 'moved-in-window' : 'foreign-address';
  }

  /** The device was given its credentials from `ip`: it is locked there from now on. */
  confirm(mac: string, ip: string): void {
    const a = plainIp(ip);
    const l = this.locks.get(mac);
    if (l && l.ip === a && !l.pendingIp) return;
    const next = l ?? blankLock(mac);
    if (next.ip !== a) (next.ip = a), (next.lockedAt = this.clock.now().getTime());
    if (next.pendingIp === a) (next.pendingIp = null), (next.pendingAt = 0), (next.pendingCount = 0);
    this.locks.set(mac, next);
    this.markDirty(mac);
  }

  /** A request for the device's credentials from another address was refused: remember it for the badge. */
  refused(mac: string, ip: string): void {
    const l = this.locks.get(mac) ?? blankLock(mac);
    const a = plainIp(ip);
    l.pendingCount = l.pendingIp === a ? l.pendingCount + 1 : 1;
    l.pendingIp = a;
    l.pendingAt = this.clock.now().getTime();
    this.locks.set(mac, l);
    this.markDirty(mac);
  }

  private markDirty(mac: string): void {
    this.dirty.add(mac);
    if (this.locks.get(mac)?.pendingIp) this.pendingMacs.add(mac);
    else this.pendingMacs.delete(mac);
    if (!this.flushTimer) this.flushTimer = setTimeout(() => void this.flush(), LOCK_FLUSH_MS);
  }

  /** Write the changed locks in one statement (a crash may lose the last 100 ms: the phone locks again at its next fetch). */
  flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer), (this.flushTimer = null);
    this.flushing = this.flushing.then(async () => {
      if (!this.dirty.size) return;
      const macs = [...this.dirty];
      this.dirty.clear();
      const rows = macs.map((m) => this.locks.get(m)).filter((l): l is DeviceLock => !!l).map(toRow);
      try {
        await this.store.write((tx) => upsertLocks(tx, rows));
      } catch (e) {
        for (const m of macs) this.dirty.add(m);
        this.log.warn('could not write device locks; will retry', { error: String(e) });
        if (!this.flushTimer) this.flushTimer = setTimeout(() => void this.flush(), 5000);
      }
    });
    return this.flushing;
  }

  private mustDevice(raw: string): string {
    const mac = normalizeMac(raw);
    if (!mac) throw deviceRefuse('DEV_MAC_INVALID', { mac: raw.slice(0, 40) });
    if (!this.devices.get(mac)) throw deviceRefuse('DEV_NOT_FOUND', { mac });
    return mac;
  }

  /** Write one device's lock now (admin actions), with its audit entry. */
  private async save(mac: string, by: string, action: string, details: Record<string, unknown>): Promise<LockView> {
    await this.flush();
    const l = this.locks.get(mac)!;
    if (l.pendingIp) this.pendingMacs.add(mac);
    else this.pendingMacs.delete(mac);
    await this.store.write(async (tx) => {
      await upsertLocks(tx, [toRow(l)]);
      await this.audit.append(tx, by, action, mac, details);
    });
    return this.view(mac)!;
  }

  /** Open the enrolment window for one device (mac) or for all (null). */
  async openWindow(macRaw: string | null, minutes: number, by: string): Promise<{ until: string }> {
    const until = this.clock.now().getTime() + minutes * 60_000;
    if (macRaw === null) {
      await this.store.write(async (tx) => {
        await tx.run('INSERT INTO enrolment_window (id, until) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET until = excluded.until', [iso(until)]);
        await this.audit.append(tx, by, 'provisioning.enrolment.open', 'all devices', { minutes });
      });
      this.windowUntil = until;
    } else {
      const mac = this.mustDevice(macRaw);
      const l = this.locks.get(mac) ?? blankLock(mac);
      l.enrolUntil = until;
      this.locks.set(mac, l);
      await this.save(mac, by, 'provisioning.enrolment.open', { minutes });
    }
    return { until: iso(until)! };
  }

  /** Close the window for one device, or the one for all (and every device's own). */
  async closeWindow(macRaw: string | null, by: string): Promise<void> {
    if (macRaw === null) {
      await this.flush();
      await this.store.write(async (tx) => {
        await tx.run('DELETE FROM enrolment_window');
        await tx.run('UPDATE device_locks SET enrol_until = NULL WHERE enrol_until IS NOT NULL');
        await this.audit.append(tx, by, 'provisioning.enrolment.close', 'all devices', {});
      });
      this.windowUntil = 0;
      for (const l of this.locks.values()) l.enrolUntil = 0;
      return;
    }
    const mac = this.mustDevice(macRaw);
    const l = this.locks.get(mac);
    if (!l) return;
    l.enrolUntil = 0;
    await this.save(mac, by, 'provisioning.enrolment.close', {});
  }

  /** A device was assigned: it may enrol (or move) for the configured minutes. Not audited: the assignment is. */
  enrolOnAssign(mac: string, minutes: number): void {
    const l = this.locks.get(mac) ?? blankLock(mac);
    l.enrolUntil = this.clock.now().getTime() + minutes * 60_000;
    this.locks.set(mac, l);
    this.markDirty(mac);
  }

  /** The badge's "allow new address": the refused address becomes the device's. */
  async allowPending(macRaw: string, by: string): Promise<LockView> {
    const mac = this.mustDevice(macRaw);
    const l = this.locks.get(mac);
    if (!l?.pendingIp) throw securityRefuse('PROVSEC_NOTHING_PENDING', { mac });
    const from = l.ip;
    l.ip = l.pendingIp;
    l.lockedAt = this.clock.now().getTime();
    l.pendingIp = null;
    l.pendingAt = 0;
    l.pendingCount = 0;
    return this.save(mac, by, 'provisioning.address.allow', { from, to: l.ip });
  }

  /** The badge's "block": the refused address stays refused; the badge goes. */
  async blockPending(macRaw: string, by: string): Promise<LockView> {
    const mac = this.mustDevice(macRaw);
    const l = this.locks.get(mac);
    if (!l?.pendingIp) throw securityRefuse('PROVSEC_NOTHING_PENDING', { mac });
    const refused = l.pendingIp;
    l.pendingIp = null;
    l.pendingAt = 0;
    l.pendingCount = 0;
    return this.save(mac, by, 'provisioning.address.block', { address: refused, lockedTo: l.ip });
  }

  /** Pin the device to a subnet (any address inside, none outside), or unpin (null). */
  async pin(macRaw: string, subnet: string | null, by: string): Promise<LockView> {
    const mac = this.mustDevice(macRaw);
    const s = subnet?.trim() || null;
    if (s && !parseSubnet(s)) throw securityRefuse('PROVSEC_SUBNET_INVALID', { subnet: s.slice(0, 60) });
    const l = this.locks.get(mac) ?? blankLock(mac);
    l.subnet = s;
    this.locks.set(mac, l);
    return this.save(mac, by, s ? 'provisioning.address.pin' : 'provisioning.address.unpin', { subnet: s });
  }

  /** Where a device (any MAC spelling) may fetch from; a bad MAC or an unknown device is refused. */
  lockView(macRaw: string): LockView {
    const mac = this.mustDevice(macRaw);
    return this.viewOf(this.locks.get(mac) ?? blankLock(mac));
  }

  view(mac: string): LockView | null {
    const l = this.locks.get(mac);
    return l ? this.viewOf(l) : null;
  }

  private viewOf(l: DeviceLock): LockView {
    const mac = l.mac;
    const now = this.clock.now().getTime();
    return { mac, ip: l.ip, subnet: l.subnet, lockedAt: iso(l.lockedAt), enrolUntil: l.enrolUntil > now ? iso(l.enrolUntil) : null, pendingIp: l.pendingIp, pendingAt: iso(l.pendingAt), pendingCount: l.pendingCount };
  }

  /** Devices with a refused new address (the badges), oldest first, a page after `after` (mac). */
  pending(limit: number, after = ''): LockView[] {
    return [...this.pendingMacs].filter((m) => m > after).sort().slice(0, limit).map((m) => this.view(m)!);
  }
}

const newKey = (): string => randomBytes(16).toString('hex');
const newDigestPassword = (): string => randomBytes(15).toString('base64url');

function blankLock(mac: string): DeviceLock {
  return { mac, ip: null, subnet: null, lockedAt: 0, enrolUntil: 0, pendingIp: null, pendingAt: 0, pendingCount: 0 };
}

function fromRow(r: LockRow): DeviceLock {
  return { mac: r.mac, ip: r.ip, subnet: r.subnet, lockedAt: ms(r.locked_at), enrolUntil: ms(r.enrol_until), pendingIp: r.pending_ip, pendingAt: ms(r.pending_at), pendingCount: r.pending_count };
}

function toRow(l: DeviceLock): LockRow {
  return { mac: l.mac, ip: l.ip, subnet: l.subnet, locked_at: iso(l.lockedAt), enrol_until: iso(l.enrolUntil), pending_ip: l.pendingIp, pending_at: iso(l.pendingAt), pending_count: l.pendingCount };
}

/** One statement for any number of locks; a device deleted meanwhile is skipped. */
function upsertLocks(tx: Tx, rows: LockRow[]): Promise<unknown> {
  if (!rows.length) return Promise.resolve();
  return tx.run(
    `INSERT INTO device_locks (mac, ip, subnet, locked_at, enrol_until, pending_ip, pending_at, pending_count)
       SELECT j.value ->> '$.mac', j.value ->> '$.ip', j.value ->> '$.subnet', j.value ->> '$.locked_at', j.value ->> '$.enrol_until',
              j.value ->> '$.pending_ip', j.value ->> '$.pending_at', j.value ->> '$.pending_count'
         FROM json_each(?) j WHERE EXISTS (SELECT 1 FROM devices d WHERE d.mac = j.value ->> '$.mac')
     ON CONFLICT(mac) DO UPDATE SET ip = excluded.ip, subnet = excluded.subnet, locked_at = excluded.locked_at, enrol_until = excluded.enrol_until,
       pending_ip = excluded.pending_ip, pending_at = excluded.pending_at, pending_count = excluded.pending_count`,
    [JSON.stringify(rows)],
  );
}
