import { randomBytes } from 'node:crypto';
import type { Store, Tx } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import { DAY_MS } from '../kernel/clock.js';
import type { EventBus, EventMap } from '../kernel/events.js';
import type { AuditLog } from './audit.js';
import type { Licensing, Holder } from '../licensing/licensing.js';
import type { Directory } from './users/directory.js';
import type { Logger } from '../kernel/log.js';
import { defineRefusals, entry, fixed, refuse as refuseCommon, type Text } from '../kernel/refusal.js';
import { messageOf, type Message, type Values } from '../kernel/messages.js';
import { outcomeMessage, type Outcome, type OutcomeCode } from './provisioning-outcomes.js';
import { orderBy, pageOf, startsWith, type PageAsk } from './paging.js';

// Vendors the provisioning server recognises and the support license each takes: the vendor list owns the rule.
import { LICENSE_CODE, VENDORS, type Vendor } from '../../provisioning/vendors/index.js';
export { LICENSE_CODE, VENDORS, type Vendor };
export type { Outcome };

export const LICENSE_STATES = ['licensed', 'waiting', 'not_required', 'unassigned', 'blocked'] as const;
export type LicenseState = (typeof LICENSE_STATES)[number];

export interface DeviceFilter {
  q?: string;
  state?: string;
  vendor?: string;
  /** Devices of this user. */
  user?: string;
}

/** What a device list sorts by, each answered by an index (migration 12). */
export const DEVICE_SORTS = ['mac', 'lastSeen', 'userName', 'createdAt', 'state', 'vendor'] as const;
const DEVICE_SORT_COLUMNS: Record<(typeof DEVICE_SORTS)[number], string[]> = {
  mac: ['mac'],
  lastSeen: ['last_seen', 'mac'],
  userName: ['user_name', 'mac'],
  createdAt: ['created_at', 'mac'],
  state: ['license_state', 'mac'],
  vendor: ['vendor', 'mac'],
};

export const refuse = defineRefusals({
  DEV_MAC_INVALID: entry<{ mac: string }>(400,
    (d) => ({ en: `"${d.mac}" is not a MAC address (12 hex digits, separators allowed).`, de: `"${d.mac}" ist keine MAC-Adresse (12 Hex-Ziffern, Trennzeichen erlaubt).` }),
    fixed({ en: 'Copy the MAC from the label on the device.', de: 'Übernehmen Sie die MAC vom Etikett des Geräts.' })),
  DEV_NOT_FOUND: entry<{ mac: string }>(404,
    (d) => ({ en: `There is no device "${d.mac}".`, de: `Es gibt kein Gerät "${d.mac}".` }),
    fixed({ en: 'Let the device contact the provisioning server once, or check the MAC.', de: 'Lassen Sie das Gerät einmal den Provisionierungsserver kontaktieren oder prüfen Sie die MAC.' })),
  DEV_USER_NOT_FOUND: entry<{ userName: string }>(404,
    (d) => ({ en: `There is no user "${d.userName}".`, de: `Es gibt keinen Benutzer "${d.userName}".` }),
    fixed({ en: 'Create the user first, then assign the device.', de: 'Legen Sie zuerst den Benutzer an und weisen Sie dann das Gerät zu.' })),
  DEV_BLOCKED: entry<{ mac: string }>(409,
    (d) => ({ en: `Device "${d.mac}" is blocked.`, de: `Das Gerät "${d.mac}" ist gesperrt.` }),
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

/** The columns a device record is made of, in a fixed order, for reading many rows as one JSON text (see Devices.load). */
const RECORD_COLUMNS = [
  'mac', 'vendor', 'model', 'blocked', 'user_name', 'line', 'display_name', 'sip_user', 'sip_password', 'license_code', 'waiting_since',
] as const satisfies ReadonlyArray<keyof DeviceRow>;
type RecordRow = Pick<DeviceRow, (typeof RECORD_COLUMNS)[number]>;

/**
 * A device as the provisioning server needs it (in memory, one per device; includes its line's
 * secret). Only what answering a phone and claiming a license need: dates, addresses and
 * firmware stay in the table (views read them there), which halves the memory per device.
 */
export interface DeviceRecord {
  mac: string;
  vendor: Vendor;
  model: string;
  blocked: boolean;
  userName: string | null;
  line: number;
  displayName: string;
  sipUser: string;
  sipPassword: string;
  licenseCode: string | null;
  waitingSince: string | null;
}

export interface ProvisioningEvent {
  mac: string | null;
  vendor: string | null;
  model: string | null;
  outcome: Outcome;
  /** What happened, as a message code and the values it names (UI and pbxctl word it in their language). */
  code: string;
  values: Values;
  /** The English text of code and values, for logs and scripts. */
  detail: string;
  text: Text;
  ip: string;
  at: string;
}

/** What a provisioning outcome says: the code and values a producer passes to `note`. */
export type OutcomeNote = Omit<ProvisioningEvent, 'at' | 'detail' | 'text' | 'values' | 'code'> & { code: OutcomeCode; values?: Values };

/** A refused claim says why as a provisioning outcome message (code, values, texts). */
export type ClaimResult = { ok: true; newly: boolean } | { ok: false; reason: 'license' | 'unassigned' | 'blocked' | 'unknown'; detail: Message & { code: OutcomeCode } };

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

function toRecord(r: RecordRow): DeviceRecord {
  return {
    mac: r.mac, vendor: r.vendor, model: r.model, blocked: r.blocked === 1, userName: r.user_name, line: r.line,
    displayName: r.display_name, sipUser: r.sip_user, sipPassword: r.sip_password, licenseCode: r.license_code, waitingSince: r.waiting_since,
  };
}

export function licenseStateOf(d: Pick<DeviceRecord, 'blocked' | 'userName' | 'vendor' | 'licenseCode'>): LicenseState {
  if (d.blocked) return 'blocked';
  if (!d.userName) return 'unassigned';
  if (!LICENSE_CODE[d.vendor]) return 'not_required';
  return d.licenseCode ? 'licensed' : 'waiting';
}

/** Users changed but not yet refreshed that are kept by name; beyond, the next refresh reads every line. */
const USERS_CHANGED_KEPT = 10_000;
/** How long after a users.changed its devices' lines are refreshed. */
const REFRESH_AFTER_MS = 200;

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
  /** Devices per license state, kept in step with the memory copy (metrics read it, never count). */
  private readonly byState: Record<LicenseState, number> = { licensed: 0, waiting: 0, not_required: 0, unassigned: 0, blocked: 0 };
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
    /** The owner of `users`: what a line shows of its user, and which lines no longer match. */
    private readonly directory: Directory,
    private readonly log: Logger,
    /** autoRecordPerSource may change at run time (reload). */
    readonly options: DevicesOptions,
  ) {
    bus.on('users.changed', (e) => this.noteUsersChanged(e.data));
  }

  /** Load the table into memory and register with licensing (usage, holders, removal plans). */
  async load(): Promise<void> {
    this.index.clear();
    // In pages: node-sqlite3 builds a whole result in C++ (on a worker thread) before handing it over,
    // and that thread's malloc arena kept the peak of 10,000 rows (about 20 MiB) resident for good.
    // Each page comes as one JSON text: node-sqlite3 makes every row an object column by column,
    // which at 100,000 devices cost seconds of start-up; JSON.parse of the same rows is a few times faster.
    // Pages follow the rowid, the order rows are stored in: one pass over the table, no index lookups.
    const columns = RECORD_COLUMNS.join(', ');
    for (let after = 0; ; ) {
      const page = await this.store.get<{ rows: string; n: number; last: number | null }>(
        `SELECT json_group_array(json_array(${columns})) AS rows, COUNT(*) AS n, MAX(rowid) AS last FROM (SELECT rowid, ${columns} FROM devices WHERE rowid > ? ORDER BY rowid LIMIT ?)`,
        [after, LOAD_PAGE],
      );
      for (const v of JSON.parse(page!.rows) as unknown[][]) {
        // In the order of RECORD_COLUMNS (no row object in between: 100,000 fewer objects to collect).
        const d: DeviceRecord = {
          mac: v[0] as string, vendor: v[1] as Vendor, model: v[2] as string, blocked: v[3] === 1, userName: v[4] as string | null, line: v[5] as number,
          displayName: v[6] as string, sipUser: v[7] as string, sipPassword: v[8] as string, licenseCode: v[9] as string | null, waitingSince: v[10] as string | null,
        };
        this.index.set(d.mac, d);
      }
      if (page!.n < LOAD_PAGE) break;
      after = page!.last!;
    }
    this.recount();
    this.licensing.addUsageProvider(async (q) => {
      // Kept by triggers (migration 13), not counted.
      const rows = await q.all<{ code: string; n: number }>('SELECT code, used AS n FROM devices_licensed');
      const used: Record<string, number> = Object.fromEntries(Object.values(LICENSE_CODE).map((c) => [c, 0]));
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
    for (const s of LICENSE_STATES) this.byState[s] = 0;
    for (const d of this.index.values()) {
      if (d.licenseCode) this.held.set(d.licenseCode, (this.held.get(d.licenseCode) ?? 0) + 1);
      this.byState[licenseStateOf(d)]++;
    }
  }

  /** Put a committed record into memory, keeping the per-code license counts in step. */
  private remember(mac: string, next: DeviceRecord | undefined): void {
    const prev = this.index.get(mac);
    if (prev?.licenseCode) this.held.set(prev.licenseCode, (this.held.get(prev.licenseCode) ?? 1) - 1);
    if (next?.licenseCode) this.held.set(next.licenseCode, (this.held.get(next.licenseCode) ?? 0) + 1);
    if (prev) this.byState[licenseStateOf(prev)]--;
    if (next) this.byState[licenseStateOf(next)]++;
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
    return { ...this.byState };
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

  /** What admins see of a device row (with the last-seen details not yet written). */
  private view(r: DeviceRow): DeviceView {
    const seen = this.seen.get(r.mac);
    return {
      mac: r.mac, vendor: r.vendor, model: seen?.model || r.model, firmware: seen?.firmware || r.firmware, lastSeen: seenAt(seen) ?? r.last_seen, lastIp: seen?.ip ?? r.last_ip,
      userName: r.user_name, line: r.user_name ? r.line : null, displayName: r.user_name ? r.display_name : null, licenseState: licenseStateOf(toRecord(r)),
      waitingSince: r.license_code ? null : r.waiting_since, licensedAt: r.licensed_at, createdAt: r.created_at, source: r.source,
    };
  }

  /** The view of a device as committed (after a write). */
  private async viewOf(mac: string): Promise<DeviceView> {
    const r = await this.store.get<DeviceRow>('SELECT * FROM devices WHERE mac = ?', [mac]);
    if (!r) throw refuse('DEV_NOT_FOUND', { mac });
    return this.view(r);
  }

  /**
   * One page of devices, read from the table through its indexes (migration 12).
   * q is a prefix of the MAC (any separators), the user name, the display name or the last address.
   */
  async list(f: DeviceFilter & PageAsk = {}): Promise<{ total: number; devices: DeviceView[]; limit: number; offset: number }> {
    const page = pageOf(f, DEVICE_SORTS, { sort: 'mac', order: 'asc' });
    const where: string[] = [];
    const params: string[] = [];
    if (f.state) {
      if (!(LICENSE_STATES as readonly string[]).includes(f.state)) throw refuseCommon('REQ_INVALID', { field: 'state', problem: `one of ${LICENSE_STATES.join(', ')}` });
      (where.push('license_state = ?'), params.push(f.state));
    }
    if (f.vendor) {
      if (!VENDORS.includes(f.vendor as Vendor)) throw refuse('DEV_VENDOR_UNKNOWN', { vendor: f.vendor.slice(0, 40) });
      (where.push('vendor = ?'), params.push(f.vendor));
    }
    if (f.user) (where.push('user_name = ?'), params.push(f.user));
    const q = f.q?.trim();
    if (q) {
      const terms = [startsWith('user_name', q), startsWith('display_name COLLATE NOCASE', q), startsWith('last_ip', q)];
      // Only text that can be (part of) a MAC is looked up as one: "anna" is not "aa".
      if (/^[0-9a-f]{2}([0-9a-f:.-]*)$/i.test(q)) terms.unshift(startsWith('mac', q.toLowerCase().replace(/[^0-9a-f]/g, '')));
      where.push(`(${terms.map((t) => t.sql).join(' OR ')})`);
      params.push(...terms.flatMap((t) => t.params));
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    // Unfiltered or by state alone, the total is kept in memory; otherwise it is counted through the filter's index.
    const kept = f.vendor || f.user || q ? undefined : f.state ? this.byState[f.state as LicenseState] : this.index.size;
    const total = kept ?? (await this.store.get<{ n: number }>(`SELECT COUNT(*) AS n FROM devices ${w}`, params))!.n;
    const rows = await this.store.all<DeviceRow>(`SELECT * FROM devices ${w} ORDER BY ${orderBy(DEVICE_SORT_COLUMNS[page.sort], page.order)} LIMIT ? OFFSET ?`, [...params, page.limit, page.offset]);
    return { total, devices: rows.map((r) => this.view(r)), limit: page.limit, offset: page.offset };
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
    return this.viewOf(mac);
  }

  /** Assign a device to a user: it gets its own line with a new SIP password. */
  async assign(macRaw: string, userName: string, line: number | undefined, by: string): Promise<DeviceView> {
    const mac = this.must(macRaw);
    await this.store.write(async (tx) => {
      const d = await this.row(tx, mac);
      if (d.blocked) throw refuse('DEV_BLOCKED', { mac });
      const u = await this.directory.lineOf(tx, userName);
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
    return this.viewOf(mac);
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
    return this.viewOf(mac);
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
    return this.viewOf(mac);
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
    if (!d) return { ok: false, reason: 'unknown', detail: outcomeMessage('refused.unknown') };
    if (d.blocked) return { ok: false, reason: 'blocked', detail: outcomeMessage('refused.blocked') };
    if (!d.userName) return { ok: false, reason: 'unassigned', detail: outcomeMessage('refused.unassigned') };
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
    // One round trip: the batch's devices and the licenses in use per code (kept by triggers, not counted).
    const rows = await tx.all<{ kind: 'device' | 'used'; mac: string; vendor: Vendor; blocked: number; user_name: string | null; license_code: string | null; waiting_since: string | null; n: number }>(
      `SELECT 'device' AS kind, mac, vendor, blocked, user_name, license_code, waiting_since, 0 AS n FROM devices WHERE mac IN (SELECT value FROM json_each(?1))
       UNION ALL SELECT 'used', '', '', 0, NULL, code, NULL, used FROM devices_licensed`,
      [JSON.stringify(macs)],
    );
    const byMac = new Map(rows.filter((r) => r.kind === 'device').map((r) => [r.mac, r]));
    const used = new Map(rows.filter((r) => r.kind === 'used').map((r) => [r.license_code!, r.n]));
    const quotas = this.licensing.quotas().quantities;
    // How many phones wait ahead of one, counted through the waiting index and capped: all that matters
    // is whether fewer wait than there are free licenses, and a capped count still says "no". So a claim
    // reads no waiting rows, however long the queue.
    const cap = new Map([...used].map(([code, n]) => [code, Math.max(0, (quotas[code] ?? 0) - n) + macs.length + 1]));
    const capOf = (code: string) => cap.get(code) ?? (quotas[code] ?? 0) + macs.length + 1;
    const WAITING = 'FROM devices INDEXED BY devices_waiting_order WHERE vendor = ? AND waiting_since IS NOT NULL AND license_code IS NULL AND blocked = 0 AND user_name IS NOT NULL';
    const countWaiting = async (vendor: Vendor, code: string, key: { since: string; mac: string } | null) =>
      (await tx.get<{ n: number }>(
        `SELECT COUNT(*) AS n FROM (SELECT 1 ${WAITING} ${key ? 'AND (waiting_since, mac) < (?, ?)' : ''} LIMIT ?)`,
        key ? [vendor, key.since, key.mac, capOf(code)] : [vendor, capOf(code)],
      ))!.n;
    const allWaiting = new Map<Vendor, number>(); // the table's queue length per vendor (not changed until the batch writes)
    // Decisions earlier in this batch move the queue: waiting phones granted leave it, new waiters join its end.
    const left = new Map<Vendor, Array<{ since: string; mac: string }>>();
    const joined = new Map<Vendor, Array<{ since: string; mac: string }>>();
    const aheadOf = (w: { since: string; mac: string }, since: string | null, mac: string) => since === null || w.since < since || (w.since === since && w.mac < mac);
    for (const mac of macs) {
      const r = byMac.get(mac);
      const code = r && LICENSE_CODE[r.vendor];
      if (!r) results.set(mac, { ok: false, reason: 'unknown', detail: outcomeMessage('refused.unknown') });
      else if (r.blocked) results.set(mac, { ok: false, reason: 'blocked', detail: outcomeMessage('refused.blocked') });
      else if (!r.user_name) results.set(mac, { ok: false, reason: 'unassigned', detail: outcomeMessage('refused.unassigned') });
      else if (!code || r.license_code) results.set(mac, { ok: true, newly: false });
      else {
        const vendor = r.vendor;
        const since = r.waiting_since;
        let inTable: number;
        if (since !== null) inTable = await countWaiting(vendor, code, { since, mac });
        else {
          if (!allWaiting.has(vendor)) allWaiting.set(vendor, await countWaiting(vendor, code, null));
          inTable = allWaiting.get(vendor)!;
        }
        const ahead = inTable - (left.get(vendor) ?? []).filter((w) => aheadOf(w, since, mac)).length + (joined.get(vendor) ?? []).filter((w) => aheadOf(w, since, mac)).length;
        const n = used.get(code) ?? 0;
        const quota = quotas[code] ?? 0;
        if (n + ahead < quota) {
          used.set(code, n + 1);
          if (since !== null) (left.get(vendor) ?? left.set(vendor, []).get(vendor)!).push({ since, mac });
          (granted.get(code) ?? granted.set(code, []).get(code)!).push(mac);
          results.set(mac, { ok: true, newly: true });
        } else {
          if (since === null) {
            waiters.push(mac);
            (joined.get(vendor) ?? joined.set(vendor, []).get(vendor)!).push({ since: now, mac });
          }
          results.set(mac, { ok: false, reason: 'license', detail: outcomeMessage(ahead ? 'refused.license.queue' : 'refused.license.used', { license: code, used: n, quota, ...(ahead ? { ahead } : {}) }) });
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
          if (cur) this.remember(mac, { ...cur, licenseCode: code, waitingSince: null });
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

  private licenseDetail(code: string) {
    return outcomeMessage('refused.license.used', { license: code, used: this.held.get(code) ?? 0, quota: this.licensing.quotas().quantities[code] ?? 0 });
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
      // The rest of what was seen is in the table now; only the model decides a configuration.
      if (d && s.model) d.model = s.model;
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
   * Users named by users.changed since the last refresh; `null`: too many to
   * name, refresh every line. It starts `null`: the pass at start repairs what
   * a crash or an older build left behind (phones of users that are gone).
   */
  private usersChanged: Set<string> | null = null;

  private noteUsersChanged(data: EventMap['users.changed']): void {
    const names = data.userNames;
    // An event names at most a few hundred users (a large import gives the count); beyond that, or when the
    // set grows large without a refresh, every line is refreshed once.
    if (!this.usersChanged || names.length < data.count || this.usersChanged.size + names.length > USERS_CHANGED_KEPT) this.usersChanged = null;
    else for (const n of names) this.usersChanged.add(n.toLowerCase());
    // The lines follow their users shortly after: a burst of changes (an import) costs one refresh.
    this.refreshTimer ??= setTimeout(() => {
      this.refreshTimer = null;
      this.refreshUsers().catch((err) => this.log.error('refreshing device lines failed', { error: String(err) }));
    }, REFRESH_AFTER_MS);
  }

  private refreshTimer: NodeJS.Timeout | null = null;

  /** No refresh after the store closes. */
  stop(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  /**
   * Users changed elsewhere (name, extension, deleted): refresh the display
   * name and SIP user of their devices; a deleted user's devices are released.
   * Only the devices of the users changed since the last call are read, so a
   * change costs the same with 100 devices or 100,000.
   */
  async refreshUsers(): Promise<void> {
    const names = this.usersChanged;
    this.usersChanged = new Set();
    if (names?.size === 0) return;
    try {
      await this.store.write(async (tx) => {
        const { orphans, lines: rows } = await this.directory.deviceLineDrift(tx, names ? [...names] : null);
        for (const mac of orphans) await this.releaseIn(tx, mac, 'system', 'user deleted');
        const changed: string[] = [];
        for (const r of rows) {
          await tx.run('UPDATE devices SET display_name = ?, sip_user = ? WHERE mac = ?', [r.display, r.sip_user, r.mac]);
          changed.push(r.mac);
        }
        if (changed.length) await this.publish(tx, changed, 'user_changed');
      });
    } catch (e) {
      // Not refreshed: the next call tries these users again.
      if (!names || !this.usersChanged) this.usersChanged = null;
      else for (const n of names) this.usersChanged.add(n);
      throw e;
    }
  }

  /** Record a provisioning outcome (bounded history) and tell the event stream. */
  note(e: OutcomeNote): void {
    const said = messageOf(e.code, e.values);
    const ev: ProvisioningEvent = { ...e, values: said.values, detail: said.text.en, text: said.text, at: new Date().toISOString() };
    if (this.history.length < this.options.historySize) this.history.push(ev);
    else {
      this.history[this.historyStart] = ev;
      this.historyStart = (this.historyStart + 1) % this.options.historySize;
    }
    this.bus.emit('provisioning.event', ev);
  }

  /** One page of the kept provisioning outcomes, newest first (order asc: oldest first); filters outcome and mac. */
  events(f: { outcome?: string; mac?: string } & PageAsk = {}): { total: number; events: ProvisioningEvent[]; limit: number; offset: number } {
    const page = pageOf(f, ['at'] as const, { sort: 'at', order: 'desc' });
    const mac = f.mac ? normalizeMac(f.mac) : undefined;
    if (f.mac && !mac) throw refuse('DEV_MAC_INVALID', { mac: f.mac.slice(0, 40) });
    const ordered = [...this.history.slice(this.historyStart), ...this.history.slice(0, this.historyStart)];
    if (page.order === 'desc') ordered.reverse();
    const matching = ordered.filter((e) => (!f.outcome || e.outcome === f.outcome) && (!mac || e.mac === mac));
    return { total: matching.length, events: matching.slice(page.offset, page.offset + page.limit), limit: page.limit, offset: page.offset };
  }
}
