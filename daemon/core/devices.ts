import { randomBytes } from 'node:crypto';
import type { Store, Tx } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import { DAY_MS } from '../kernel/clock.js';
import type { EventBus } from '../kernel/events.js';
import type { AuditLog } from './audit.js';
import type { Licensing, Holder } from '../licensing/licensing.js';
import type { Logger } from '../kernel/log.js';
import { defineRefusals, entry, fixed } from '../kernel/refusal.js';

/** Vendors the provisioning server recognises. Cisco and Unify desk phones need a support license each. */
export type Vendor = 'cisco' | 'unify' | 'gigaset' | 'yealink' | 'snom';
export const VENDORS: readonly Vendor[] = ['cisco', 'unify', 'gigaset', 'yealink', 'snom'];

/** The support license a vendor's phones take (none for DECT and others). */
export const LICENSE_CODE: Partial<Record<Vendor, string>> = { cisco: 'devices.cisco', unify: 'devices.unify' };

export type LicenseState = 'licensed' | 'waiting' | 'not_required' | 'unassigned' | 'blocked';

export type Outcome = 'served' | 'refused_license' | 'unknown' | 'blocked' | 'rejected';

export const refuse = defineRefusals({
  DEV_MAC_INVALID: entry<{ mac: string }>(400,
    (d) => ({ en: `"${d.mac}" is not a MAC address (12 hex digits, separators allowed).`, de: `"${d.mac}" ist keine MAC-Adresse (12 Hex-Ziffern, Trennzeichen erlaubt).` }),
    fixed({ en: 'Copy the MAC from the label on the device.', de: 'Übernehmen Sie die MAC vom Etikett des Geräts.' })),
  DEV_NOT_FOUND: entry<{ mac: string }>(404,
    (d) => ({ en: `There is no device ${d.mac}.`, de: `Es gibt kein Gerät ${d.mac}.` }),
    fixed({ en: 'Let the device contact the provisioning server once, or check the MAC.', de: 'Lassen Sie das Gerät einmal den Provisionierungsserver kontaktieren oder prüfen Sie die MAC.' })),
  DEV_USER_NOT_FOUND: entry<{ userName: string }>(404,
    (d) => ({ en: `There is no user "${d.userName}".`, de: `Es gibt keinen Benutzer "${d.userName}".` }),
    fixed({ en: 'Create the user first, then assign the device.', de: 'Legen Sie zuerst den Benutzer an und weisen Sie dann das Gerät zu.' })),
  DEV_BLOCKED: entry<{ mac: string }>(409,
    (d) => ({ en: `Device ${d.mac} is blocked.`, de: `Das Gerät ${d.mac} ist gesperrt.` }),
    fixed({ en: 'Unblock it first.', de: 'Heben Sie zuerst die Sperre auf.' })),
  DEV_VENDOR_UNKNOWN: entry<{ vendor: string }>(400,
    (d) => ({ en: `Unknown vendor "${d.vendor}"; known: ${VENDORS.join(', ')}.`, de: `Unbekannter Hersteller "${d.vendor}"; bekannt: ${VENDORS.join(', ')}.` }),
    fixed({ en: 'Choose one of the listed vendors.', de: 'Wählen Sie einen der genannten Hersteller.' })),
});

/** What the admin API and the CLI show: never the SIP password. */
export interface DeviceView {
  mac: string;
  vendor: Vendor;
  model: string;
  firmware: string;
  lastSeen: string | null;
  lastIp: string | null;
  userName: string | null;
  line: number | null;
  displayName: string | null;
  licenseState: LicenseState;
  /** When it asked for a support license and none was free (null: it has not asked, or holds one). */
  waitingSince: string | null;
  licensedAt: string | null;
  createdAt: string;
  source: 'auto' | 'admin';
}

interface DeviceRow {
  mac: string;
  vendor: Vendor;
  model: string;
  firmware: string;
  source: 'auto' | 'admin';
  source_ip: string;
  created_at: string;
  last_seen: string | null;
  last_ip: string | null;
  blocked: number;
  user_name: string | null;
  line: number;
  display_name: string;
  sip_user: string;
  sip_password: string;
  license_code: string | null;
  licensed_at: string | null;
  waiting_since: string | null;
}

/** A device as the provisioning server needs it (in memory; includes its line's secret). */
export interface DeviceRecord {
  mac: string;
  vendor: Vendor;
  model: string;
  firmware: string;
  blocked: boolean;
  userName: string | null;
  line: number;
  displayName: string;
  sipUser: string;
  sipPassword: string;
  licenseCode: string | null;
  waitingSince: string | null;
  source: 'auto' | 'admin';
  sourceIp: string;
  createdAt: string;
  licensedAt: string | null;
  lastSeen: string | null;
  lastIp: string | null;
}

export interface ProvisioningEvent {
  mac: string | null;
  vendor: string | null;
  model: string | null;
  outcome: Outcome;
  detail: string;
  ip: string;
  at: string;
}

export type ClaimResult = { ok: true; newly: boolean } | { ok: false; reason: 'license' | 'unassigned' | 'blocked' | 'unknown'; detail: string };

/** 12 lower-case hex digits from any of 001122AABBCC, 00:11:22:aa:bb:cc, 00-11-22-aa-bb-cc, 0011.22aa.bbcc; null if not a MAC. */
export function normalizeMac(raw: string): string | null {
  const s = raw.trim().toLowerCase();
  if (!/^[0-9a-f]{12}$|^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$|^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/.test(s)) return null;
  return s.replace(/[^0-9a-f]/g, '');
}

/** A claim batch that ends this soon after the last one means a storm: the next gathers CLAIM_GATHER_MS first. */
const CLAIM_STORM_MS = 50;
const CLAIM_GATHER_MS = 4;

const seenAt = (s: { at: number } | undefined): string | undefined => (s ? new Date(s.at).toISOString() : undefined);

function toRecord(r: DeviceRow): DeviceRecord {
  return {
    mac: r.mac, vendor: r.vendor, model: r.model, firmware: r.firmware, blocked: r.blocked === 1, userName: r.user_name, line: r.line,
    displayName: r.display_name, sipUser: r.sip_user, sipPassword: r.sip_password, licenseCode: r.license_code, waitingSince: r.waiting_since,
    source: r.source, sourceIp: r.source_ip, createdAt: r.created_at, licensedAt: r.licensed_at, lastSeen: r.last_seen, lastIp: r.last_ip,
  };
}

export function licenseStateOf(d: Pick<DeviceRecord, 'blocked' | 'userName' | 'vendor' | 'licenseCode'>): LicenseState {
  if (d.blocked) return 'blocked';
  if (!d.userName) return 'unassigned';
  if (!LICENSE_CODE[d.vendor]) return 'not_required';
  return d.licenseCode ? 'licensed' : 'waiting';
}

/** Rows per query when the table is loaded at start. */
const LOAD_PAGE = 500;

export interface DevicesOptions {
  /** How many unassigned devices one source address may auto-record. */
  autoRecordPerSource: number;
  /** How many provisioning outcomes the history keeps. */
  historySize: number;
}

/**
 * The device table and the support licenses of desk phones. Knows nothing of
 * HTTP: the provisioning server asks it who a MAC is, to claim a license, and
 * to record unknown devices; admins assign, release, block.
 *
 * Every device is also held in memory (`get()` is synchronous) so the
 * provisioning hot path never queries SQLite; the memory copy is updated only
 * after a write commits. License claims are the only hot-path writes, each a
 * check-then-write inside one `store.write`.
 */
export class Devices {
  private readonly index = new Map<string, DeviceRecord>();
  /** Licensed devices per code, mirrored from the table (for the quick "none free" answer). */
  private readonly held = new Map<string, number>();
  private readonly changeListeners: Array<(macs: string[], action: string) => void> = [];
  /** last_seen/last_ip not yet written: flushed in batches, not one write per request. */
  private readonly seen = new Map<string, { at: number; ip: string; model: string; firmware: string }>();
  private readonly history: ProvisioningEvent[] = [];
  /** Claims waiting for the next batch (see decideClaims). */
  private readonly claims: Array<{ mac: string; resolve: (r: ClaimResult) => void; reject: (e: unknown) => void }> = [];
  private claimsScheduled = false;
  private claimsWriting = false;
  private lastClaimBatchEnd = -Infinity;
  private historyStart = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly audit: AuditLog,
    private readonly licensing: Licensing,
    private readonly log: Logger,
    /** autoRecordPerSource may change at run time (reload). */
    readonly options: DevicesOptions,
  ) {}

  /** Load the table into memory and register with licensing (usage, holders, removal plans). */
  async load(): Promise<void> {
    this.index.clear();
    // In pages: node-sqlite3 builds a whole result in C++ (on a worker thread) before handing it over,
    // and that thread's malloc arena kept the peak of 10,000 rows (about 20 MiB) resident for good.
    for (let after = ''; ; ) {
      const rows = await this.store.all<DeviceRow>('SELECT * FROM devices WHERE mac > ? ORDER BY mac LIMIT ?', [after, LOAD_PAGE]);
      for (const r of rows) this.index.set(r.mac, toRecord(r));
      if (rows.length < LOAD_PAGE) break;
      after = rows[rows.length - 1]!.mac;
    }
    this.recount();
    this.licensing.addUsageProvider(async (q) => {
      const rows = await q.all<{ code: string; n: number }>('SELECT license_code AS code, COUNT(*) AS n FROM devices WHERE license_code IS NOT NULL GROUP BY license_code');
      const used: Record<string, number> = { 'devices.cisco': 0, 'devices.unify': 0 };
      for (const r of rows) used[r.code] = r.n;
      return used;
    });
    this.licensing.addHolderSource({
      codes: (code) => Object.values(LICENSE_CODE).includes(code),
      holders: async (q, code, limit) => {
        const rows = await q.all<DeviceRow>('SELECT * FROM devices WHERE license_code = ? ORDER BY COALESCE(last_seen, licensed_at) LIMIT ?', [code, limit]);
        return rows.map((r): Holder => ({ kind: 'device', id: r.mac, name: `${r.vendor} ${r.model} ${r.mac}${r.user_name ? ` (${r.user_name})` : ''}`.trim(), lastActive: seenAt(this.seen.get(r.mac)) ?? r.last_seen }));
      },
      release: async (tx, holder, code, by) => {
        if (holder.kind !== 'device') return;
        await this.releaseIn(tx, holder.id, by, 'license plan', code);
      },
    });
  }

  private recount(): void {
    this.held.clear();
    for (const d of this.index.values()) if (d.licenseCode) this.held.set(d.licenseCode, (this.held.get(d.licenseCode) ?? 0) + 1);
  }

  /** Put a committed record into memory, keeping the per-code license counts in step. */
  private remember(mac: string, next: DeviceRecord | undefined): void {
    const prev = this.index.get(mac);
    if (prev?.licenseCode) this.held.set(prev.licenseCode, (this.held.get(prev.licenseCode) ?? 1) - 1);
    if (next?.licenseCode) this.held.set(next.licenseCode, (this.held.get(next.licenseCode) ?? 0) + 1);
    if (next) this.index.set(mac, next);
    else this.index.delete(mac);
  }

  private changed(macs: string[], action: string): void {
    for (const fn of this.changeListeners) fn(macs, action);
    this.bus.emit('devices.changed', { macs, action });
  }

  /**
   * Called with the MACs whose record changed (after the write committed).
   * action 'licensed' / 'waiting' changes only the license state, never the configuration.
   */
  onChange(fn: (macs: string[], action: string) => void): void {
    this.changeListeners.push(fn);
  }

  /** Devices per license state (all five states, 0 included). */
  countByState(): Record<LicenseState, number> {
    const n: Record<LicenseState, number> = { licensed: 0, waiting: 0, not_required: 0, unassigned: 0, blocked: 0 };
    for (const d of this.index.values()) n[licenseStateOf(d)]++;
    return n;
  }

  get(mac: string): DeviceRecord | undefined {
    return this.index.get(mac);
  }

  all(): IterableIterator<DeviceRecord> {
    return this.index.values();
  }

  get size(): number {
    return this.index.size;
  }

  view(d: DeviceRecord): DeviceView {
    const seen = this.seen.get(d.mac);
    return {
      mac: d.mac, vendor: d.vendor, model: seen?.model || d.model, firmware: seen?.firmware || d.firmware, lastSeen: seenAt(seen) ?? d.lastSeen, lastIp: seen?.ip ?? d.lastIp,
      userName: d.userName, line: d.userName ? d.line : null, displayName: d.userName ? d.displayName : null, licenseState: licenseStateOf(d),
      waitingSince: d.licenseCode ? null : d.waitingSince, licensedAt: d.licensedAt, createdAt: d.createdAt, source: d.source,
    };
  }

  list(f: { q?: string; state?: string; vendor?: string } = {}): DeviceView[] {
    const q = f.q?.toLowerCase();
    const qMac = q ? q.replace(/[^0-9a-f]/g, '') : '';
    return [...this.index.values()]
      .map((d) => this.view(d))
      .filter((v) => (!f.state || v.licenseState === f.state) && (!f.vendor || v.vendor === f.vendor))
      .filter((v) => !q || (qMac.length >= 4 && v.mac.includes(qMac)) || `${v.model} ${v.userName ?? ''} ${v.displayName ?? ''} ${v.lastIp ?? ''}`.toLowerCase().includes(q))
      .sort((a, b) => a.mac.localeCompare(b.mac));
  }

  /** Re-read rows inside the transaction; publish them to memory (and listeners) once it commits. */
  private async publish(tx: Tx, macs: string[], action: string): Promise<void> {
    const rows: Array<[string, DeviceRow | undefined]> = [];
    for (const mac of macs) rows.push([mac, await tx.get<DeviceRow>('SELECT * FROM devices WHERE mac = ?', [mac])]);
    tx.afterCommit(() => {
      for (const [mac, r] of rows) this.remember(mac, r ? toRecord(r) : undefined);
      this.changed(macs, action);
    });
  }

  private must(mac: string): string {
    const m = normalizeMac(mac);
    if (!m) throw refuse('DEV_MAC_INVALID', { mac: mac.slice(0, 40) });
    return m;
  }

  private async row(tx: Tx, mac: string): Promise<DeviceRow> {
    const r = await tx.get<DeviceRow>('SELECT * FROM devices WHERE mac = ?', [mac]);
    if (!r) throw refuse('DEV_NOT_FOUND', { mac });
    return r;
  }

  /**
   * Record a device that contacted us and is not in the table (unassigned, no
   * credentials). Bounded per source address so one host cannot fill the table.
   */
  async recordUnknown(d: { mac: string; vendor: Vendor; model: string; firmware: string; ip: string }): Promise<'recorded' | 'bounded' | 'exists'> {
    if (this.index.has(d.mac)) return 'exists';
    const now = this.clock.now().toISOString();
    return this.store.write(async (tx) => {
      if (await tx.get('SELECT 1 FROM devices WHERE mac = ?', [d.mac])) return 'exists' as const;
      const n = (await tx.get<{ n: number }>("SELECT COUNT(*) AS n FROM devices WHERE source = 'auto' AND source_ip = ? AND user_name IS NULL", [d.ip]))!.n;
      if (n >= this.options.autoRecordPerSource) return 'bounded' as const;
      await tx.run("INSERT INTO devices (mac, vendor, model, firmware, source, source_ip, created_at, last_seen, last_ip) VALUES (?, ?, ?, ?, 'auto', ?, ?, ?, ?)", [
        d.mac, d.vendor, d.model.slice(0, 64), d.firmware.slice(0, 64), d.ip, now, now, d.ip,
      ]);
      await this.publish(tx, [d.mac], 'recorded');
      return 'recorded' as const;
    });
  }

  /** Add a device by hand (before it ever contacts us). */
  async add(macRaw: string, vendor: string, model: string, by: string): Promise<DeviceView> {
    const mac = this.must(macRaw);
    if (!VENDORS.includes(vendor as Vendor)) throw refuse('DEV_VENDOR_UNKNOWN', { vendor: vendor.slice(0, 40) });
    const now = this.clock.now().toISOString();
    await this.store.write(async (tx) => {
      await tx.run("INSERT INTO devices (mac, vendor, model, source, created_at) VALUES (?, ?, ?, 'admin', ?) ON CONFLICT(mac) DO UPDATE SET vendor = excluded.vendor, model = CASE WHEN excluded.model = '' THEN model ELSE excluded.model END", [
        mac, vendor, model.slice(0, 64), now,
      ]);
      await this.audit.append(tx, by, 'device.add', mac, { vendor, model });
      await this.publish(tx, [mac], 'added');
    });
    return this.view(this.index.get(mac)!);
  }

  /** Assign a device to a user: it gets its own line with a new SIP password. */
  async assign(macRaw: string, userName: string, line: number | undefined, by: string): Promise<DeviceView> {
    const mac = this.must(macRaw);
    await this.store.write(async (tx) => {
      const d = await this.row(tx, mac);
      if (d.blocked) throw refuse('DEV_BLOCKED', { mac });
      const u = await tx.get<{ user_name: string; first_name: string; last_name: string; extension: string | null }>(
        'SELECT user_name, first_name, last_name, extension FROM users WHERE user_name = ?', [userName]);
      if (!u) throw refuse('DEV_USER_NOT_FOUND', { userName: userName.slice(0, 80) });
      const display = `${u.first_name} ${u.last_name}`.trim() || u.user_name;
      const sameUser = d.user_name?.toLowerCase() === u.user_name.toLowerCase();
      // A new owner gets a new secret; re-assigning the same user keeps the phone's registration working.
      const password = sameUser && d.sip_password ? d.sip_password : randomBytes(18).toString('base64url');
      await tx.run('UPDATE devices SET user_name = ?, line = ?, display_name = ?, sip_user = ?, sip_password = ? WHERE mac = ?', [
        u.user_name, line ?? 1, display, u.extension ?? u.user_name, password, mac,
      ]);
      await this.audit.append(tx, by, 'device.assign', mac, { userName: u.user_name, line: line ?? 1, previous: d.user_name });
      await this.publish(tx, [mac], 'assigned');
    });
    return this.view(this.index.get(mac)!);
  }

  /** Inside a transaction: drop the device's user, line secret and support license. */
  private async releaseIn(tx: Tx, mac: string, by: string, reason: string, code?: string): Promise<boolean> {
    const d = await tx.get<DeviceRow>('SELECT * FROM devices WHERE mac = ?', [mac]);
    if (!d || (code && d.license_code !== code)) return false;
    await tx.run("UPDATE devices SET user_name = NULL, display_name = '', sip_user = '', sip_password = '', license_code = NULL, licensed_at = NULL, waiting_since = NULL WHERE mac = ?", [mac]);
    await this.audit.append(tx, by, 'device.release', mac, { userName: d.user_name, license: d.license_code, reason });
    await this.publish(tx, [mac], 'released');
    return true;
  }

  /** Inside the write that deletes a user: their devices lose user, line secret and support license. */
  async releaseUserDevices(tx: Tx, userName: string, by: string): Promise<void> {
    for (const d of await tx.all<{ mac: string }>('SELECT mac FROM devices WHERE user_name = ?', [userName])) await this.releaseIn(tx, d.mac, by, 'user deleted');
  }

  /** Release: the device loses its user and its support license (the next waiting phone can take it). */
  async release(macRaw: string, by: string): Promise<DeviceView> {
    const mac = this.must(macRaw);
    await this.store.write(async (tx) => {
      await this.row(tx, mac);
      await this.releaseIn(tx, mac, by, 'admin');
    });
    return this.view(this.index.get(mac)!);
  }

  /** Block: never served again (and its license is freed) until unblocked. */
  async setBlocked(macRaw: string, blocked: boolean, by: string): Promise<DeviceView> {
    const mac = this.must(macRaw);
    await this.store.write(async (tx) => {
      const d = await this.row(tx, mac);
      if (blocked) await tx.run('UPDATE devices SET blocked = 1, license_code = NULL, licensed_at = NULL, waiting_since = NULL WHERE mac = ?', [mac]);
      else await tx.run('UPDATE devices SET blocked = 0 WHERE mac = ?', [mac]);
      await this.audit.append(tx, by, blocked ? 'device.block' : 'device.unblock', mac, { license: blocked ? d.license_code : null });
      await this.publish(tx, [mac], blocked ? 'blocked' : 'unblocked');
    });
    return this.view(this.index.get(mac)!);
  }

  async remove(macRaw: string, by: string): Promise<void> {
    const mac = this.must(macRaw);
    await this.store.write(async (tx) => {
      const d = await this.row(tx, mac);
      await tx.run('DELETE FROM devices WHERE mac = ?', [mac]);
      await this.audit.append(tx, by, 'device.delete', mac, { vendor: d.vendor, userName: d.user_name, license: d.license_code });
      await this.publish(tx, [mac], 'deleted');
    });
  }

  /** Quick answer without a write: no license can be had now and this device already waits (so it is recorded). */
  private surelyRefused(d: DeviceRecord, code: string): boolean {
    if (!d.waitingSince) return false;
    const quota = this.licensing.quotas().quantities[code] ?? 0;
    return (this.held.get(code) ?? 0) >= quota;
  }

  /**
   * The device asks for its configuration: make sure it may have it. Cisco and
   * Unify phones take one support license of their vendor the first time and
   * keep it. With none free the device is marked waiting (first time only), and
   * waiting devices get licenses in the order they started waiting: a phone may
   * take a free license only if no phone that waits longer is still waiting.
   */
  async claim(mac: string): Promise<ClaimResult> {
    const d = this.index.get(mac);
    if (!d) return { ok: false, reason: 'unknown', detail: 'not in the device table' };
    if (d.blocked) return { ok: false, reason: 'blocked', detail: 'blocked by an admin' };
    if (!d.userName) return { ok: false, reason: 'unassigned', detail: 'no user assigned' };
    const code = LICENSE_CODE[d.vendor];
    if (!code || d.licenseCode) return { ok: true, newly: false };
    if (this.surelyRefused(d, code)) return { ok: false, reason: 'license', detail: this.licenseDetail(code) };
    return new Promise<ClaimResult>((resolve, reject) => {
      this.claims.push({ mac, resolve, reject });
      this.scheduleClaims();
    });
  }

  /**
   * Claims that arrive together (a boot storm) are decided in one write: two
   * statements for the whole batch (one read, one update) instead of several
   * per phone. Under load every statement waits for a turn of the event loop,
   * so what counts is statements per claim. Inside the write, each phone is
   * judged in arrival order exactly as if alone: it may take a license only
   * if used + (phones waiting longer) < quota.
   */
  private scheduleClaims(): void {
    if (this.claimsScheduled || this.claimsWriting || this.claims.length === 0) return;
    this.claimsScheduled = true;
    const decide = () => {
      this.claimsScheduled = false;
      this.decideClaims();
    };
    // A lone phone is decided at once; in a storm (a batch just ended) claims gather a moment longer.
    if (performance.now() - this.lastClaimBatchEnd < CLAIM_STORM_MS) setTimeout(decide, CLAIM_GATHER_MS);
    else setImmediate(decide);
  }

  /** One claim write at a time: claims that arrive while it commits form the next batch (it grows with the load). */
  private decideClaims(): void {
    this.claimsWriting = true;
    const batch = this.claims.splice(0);
    const macs = [...new Set(batch.map((c) => c.mac))];
    this.store
      .write((tx) => this.claimIn(tx, macs))
      .then(
        (results) => batch.forEach((c) => c.resolve(results.get(c.mac)!)),
        (e) => batch.forEach((c) => c.reject(e)),
      )
      .finally(() => {
        this.claimsWriting = false;
        this.lastClaimBatchEnd = performance.now();
        this.scheduleClaims();
      });
  }

  private async claimIn(tx: Tx, macs: string[]): Promise<Map<string, ClaimResult>> {
    const now = this.clock.now().toISOString();
    const granted = new Map<string, string[]>(); // code → macs
    const waiters: string[] = [];
    const results = new Map<string, ClaimResult>();
    // One round trip: the batch's devices, the licenses in use per code, and the devices of those vendors waiting.
    const rows = await tx.all<{ kind: 'device' | 'used' | 'waiting'; mac: string; vendor: Vendor; blocked: number; user_name: string | null; license_code: string | null; waiting_since: string | null; n: number }>(
      `SELECT 'device' AS kind, mac, vendor, blocked, user_name, license_code, waiting_since, 0 AS n FROM devices WHERE mac IN (SELECT value FROM json_each(?1))
       UNION ALL SELECT 'used', '', '', 0, NULL, license_code, NULL, COUNT(*) FROM devices WHERE license_code IS NOT NULL GROUP BY license_code
       UNION ALL SELECT 'waiting', mac, vendor, 0, NULL, NULL, waiting_since, 0 FROM devices
         WHERE license_code IS NULL AND blocked = 0 AND user_name IS NOT NULL AND waiting_since IS NOT NULL
           AND vendor IN (SELECT vendor FROM devices WHERE mac IN (SELECT value FROM json_each(?1)))`,
      [JSON.stringify(macs)],
    );
    const byMac = new Map(rows.filter((r) => r.kind === 'device').map((r) => [r.mac, r]));
    const used = new Map(rows.filter((r) => r.kind === 'used').map((r) => [r.license_code!, r.n]));
    const waiting = new Map<string, Array<{ mac: string; since: string }>>();
    const waitRows = rows.filter((r) => r.kind === 'waiting').sort((a, b) => (a.waiting_since! < b.waiting_since! ? -1 : a.waiting_since! > b.waiting_since! ? 1 : a.mac < b.mac ? -1 : 1));
    for (const w of waitRows) (waiting.get(w.vendor) ?? waiting.set(w.vendor, []).get(w.vendor)!).push({ mac: w.mac, since: w.waiting_since! });
    const quotas = this.licensing.quotas().quantities;
    for (const mac of macs) {
      const r = byMac.get(mac);
      const code = r && LICENSE_CODE[r.vendor];
      if (!r) results.set(mac, { ok: false, reason: 'unknown', detail: 'not in the device table' });
      else if (r.blocked) results.set(mac, { ok: false, reason: 'blocked', detail: 'blocked by an admin' });
      else if (!r.user_name) results.set(mac, { ok: false, reason: 'unassigned', detail: 'no user assigned' });
      else if (!code || r.license_code) results.set(mac, { ok: true, newly: false });
      else {
        const list = waiting.get(r.vendor) ?? [];
        const since = r.waiting_since;
        const ahead = list.filter((w) => w.mac !== mac && (since === null || w.since < since || (w.since === since && w.mac < mac))).length;
        const n = used.get(code) ?? 0;
        const quota = quotas[code] ?? 0;
        if (n + ahead < quota) {
          used.set(code, n + 1);
          const at = list.findIndex((w) => w.mac === mac);
          if (at >= 0) list.splice(at, 1);
          (granted.get(code) ?? granted.set(code, []).get(code)!).push(mac);
          results.set(mac, { ok: true, newly: true });
        } else {
          if (since === null) {
            waiters.push(mac);
            list.push({ mac, since: now });
            waiting.set(r.vendor, list);
          }
          results.set(mac, { ok: false, reason: 'license', detail: `${code}: ${n} of ${quota} in use${ahead ? `, ${ahead} waiting longer` : ''}` });
        }
      }
    }
    // One statement for the whole batch: granted devices take their code, new waiters note since when.
    const changes = [...[...granted].flatMap(([code, list]) => list.map((mac) => ({ mac, code }))), ...waiters.map((mac) => ({ mac, code: null }))];
    if (changes.length)
      await tx.run(
        `UPDATE devices SET license_code = j.value ->> '$.code',
           licensed_at = CASE WHEN j.value ->> '$.code' IS NULL THEN licensed_at ELSE ?1 END,
           waiting_since = CASE WHEN j.value ->> '$.code' IS NULL THEN ?1 ELSE NULL END
         FROM json_each(?2) j WHERE devices.mac = j.value ->> '$.mac'`,
        [now, JSON.stringify(changes)],
      );
    tx.afterCommit(() => {
      const licensed: string[] = [];
      for (const [code, list] of granted)
        for (const mac of list) {
          const cur = this.index.get(mac);
          if (cur) this.remember(mac, { ...cur, licenseCode: code, licensedAt: now, waitingSince: null });
          licensed.push(mac);
        }
      for (const mac of waiters) {
        const cur = this.index.get(mac);
        if (cur) this.remember(mac, { ...cur, waitingSince: now });
      }
      const list = (macs: string[]) => (macs.length <= 5 ? macs.join(',') : `${macs.length} devices`);
      if (licensed.length) (this.changed(licensed, 'licensed'), this.log.info('support license taken', { devices: list(licensed) }));
      if (waiters.length) (this.changed(waiters, 'waiting'), this.log.notice('waiting for a support license', { devices: list(waiters) }));
    });
    return results;
  }

  private licenseDetail(code: string): string {
    return `${code}: ${this.held.get(code) ?? 0} of ${this.licensing.quotas().quantities[code] ?? 0} in use`;
  }

  /** Note that a device was seen, and with which model and firmware (written in batches by `flushSeen`). */
  touch(mac: string, ip: string, model = '', firmware = ''): void {
    // Called for most provisioning requests: a number now, the ISO text only when written or shown.
    const at = Date.now();
    const s = this.seen.get(mac);
    if (s && s.ip === ip && s.model === model && s.firmware === firmware) s.at = at;
    else this.seen.set(mac, { at, ip, model: model.slice(0, 64), firmware: firmware.slice(0, 64) });
  }

  /** Write pending last_seen/last_ip in one transaction. Losing a few seconds of these in a crash is acceptable. */
  async flushSeen(): Promise<number> {
    if (this.seen.size === 0) return 0;
    const batch = [...this.seen];
    this.seen.clear();
    // One statement for the whole batch (a boot storm touches thousands of rows).
    const json = JSON.stringify(batch.map(([m, s]) => [m, seenAt(s), s.ip, s.model, s.firmware]));
    await this.store.write((tx) =>
      tx.run(`UPDATE devices SET last_seen = s.at, last_ip = s.ip,
                     model = COALESCE(NULLIF(s.model, ''), devices.model), firmware = COALESCE(NULLIF(s.firmware, ''), devices.firmware)
                FROM (SELECT value->>0 AS mac, value->>1 AS at, value->>2 AS ip, value->>3 AS model, value->>4 AS firmware FROM json_each(?)) AS s
               WHERE devices.mac = s.mac`, [json]),
    );
    for (const [mac, s] of batch) {
      const d = this.index.get(mac);
      if (d) Object.assign(d, { lastSeen: seenAt(s), lastIp: s.ip }, s.model ? { model: s.model } : {}, s.firmware ? { firmware: s.firmware } : {});
    }
    return batch.length;
  }

  /** Release the support licenses of Cisco/Unify phones not seen for `days` days. */
  async releaseStale(days: number, by: string): Promise<string[]> {
    await this.flushSeen();
    const cutoff = new Date(this.clock.now().getTime() - days * DAY_MS).toISOString();
    return this.store.write(async (tx) => {
      const rows = await tx.all<{ mac: string }>('SELECT mac FROM devices WHERE license_code IS NOT NULL AND COALESCE(last_seen, licensed_at) < ?', [cutoff]);
      for (const r of rows) {
        await tx.run('UPDATE devices SET license_code = NULL, licensed_at = NULL WHERE mac = ?', [r.mac]);
        await this.audit.append(tx, by, 'device.license.release', r.mac, { reason: `not seen for ${days} days` });
        await this.publish(tx, [r.mac], 'license_released');
      }
      return rows.map((r) => r.mac);
    });
  }

  /**
   * Users changed elsewhere (name, extension, deleted): refresh the display
   * name and SIP user of their devices; a deleted user's devices are released.
   */
  async refreshUsers(): Promise<void> {
    await this.store.write(async (tx) => {
      const orphans = await tx.all<{ mac: string }>('SELECT mac FROM devices WHERE user_name IS NOT NULL AND user_name NOT IN (SELECT user_name FROM users)');
      for (const o of orphans) await this.releaseIn(tx, o.mac, 'system', 'user deleted');
      const rows = await tx.all<{ mac: string; display: string; sip_user: string }>(
        `SELECT d.mac, TRIM(u.first_name || ' ' || u.last_name) AS display, COALESCE(u.extension, u.user_name) AS sip_user
           FROM devices d JOIN users u ON u.user_name = d.user_name`);
      const changed: string[] = [];
      for (const r of rows) {
        const cur = this.index.get(r.mac);
        const display = r.display || cur?.userName || '';
        if (cur && (cur.displayName !== display || cur.sipUser !== r.sip_user)) {
          await tx.run('UPDATE devices SET display_name = ?, sip_user = ? WHERE mac = ?', [display, r.sip_user, r.mac]);
          changed.push(r.mac);
        }
      }
      if (changed.length) await this.publish(tx, changed, 'user_changed');
    });
  }

  /** Record a provisioning outcome (bounded history) and tell the event stream. */
  note(e: Omit<ProvisioningEvent, 'at'>): void {
    const ev: ProvisioningEvent = { ...e, at: new Date().toISOString() };
    if (this.history.length < this.options.historySize) this.history.push(ev);
    else {
      this.history[this.historyStart] = ev;
      this.historyStart = (this.historyStart + 1) % this.options.historySize;
    }
    this.bus.emit('provisioning.event', ev as unknown as Record<string, unknown>);
  }

  /** Newest first. */
  events(limit = 100): ProvisioningEvent[] {
    const ordered = [...this.history.slice(this.historyStart), ...this.history.slice(0, this.historyStart)];
    return ordered.reverse().slice(0, Math.max(1, Math.min(limit, this.options.historySize)));
  }
}
