import { randomBytes } from 'node:crypto';
import type { Store, Tx } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import { DAY_MS } from '../kernel/clock.js';
import type { EventBus } from '../kernel/events.js';
import type { AuditLog } from './audit.js';
import type { Licensing } from '../licensing/licensing.js';
import type { Directory } from './users/directory.js';
import type { Logger } from '../kernel/log.js';
import { SupportClaims } from './devices/claims.js';
import { LastSeen } from './devices/last-seen.js';
import { DeviceMemory } from './devices/memory.js';
import {
  normalizeMac, RECORD_COLUMNS, refuse, toRecord,
  type DeviceFamilies, type DeviceRecord, type DeviceRow, type DeviceView, type LicenseState,
} from './devices/model.js';
import { OutcomeHistory } from './devices/outcome-history.js';
import { UserLines } from './devices/user-lines.js';
import { DeviceViews } from './devices/views.js';

export {
  DEVICE_SORTS, LICENSE_STATES, licenseStateOf, normalizeMac, refuse,
  type ClaimResult, type DeviceFamilies, type DeviceFilter, type DeviceRecord, type DeviceView, type LicenseState, type OutcomeNote, type ProvisioningEvent,
} from './devices/model.js';
export type { Outcome } from './provisioning-outcomes.js';

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
 * The one owner of `devices`, composed of parts under ./devices/: the memory
 * copy (`get()` is synchronous, so the provisioning hot path never queries
 * SQLite; updated only after a write commits), the support-license claims
 * (the only hot-path writes, each a check-then-write inside one
 * `store.write`), the last-seen batches, the outcome history, the lines that
 * follow their users and the admin views. The writes admins make are here.
 */
export class Devices {
  private readonly memory: DeviceMemory;
  private readonly claims: SupportClaims;
  private readonly lastSeen: LastSeen;
  private readonly history: OutcomeHistory;
  private readonly userLines: UserLines;
  private readonly views: DeviceViews;
  private readonly changeListeners: Array<(macs: string[], action: string) => void> = [];

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly audit: AuditLog,
    private readonly licensing: Licensing,
    /** The owner of `users`: what a line shows of its user, and which lines no longer match. */
    private readonly directory: Directory,
    log: Logger,
    /** The device families and their support licenses (from the vendor list, handed in by main.ts). */
    private readonly families: DeviceFamilies,
    /** autoRecordPerSource may change at run time (reload). */
    readonly options: DevicesOptions,
  ) {
    this.memory = new DeviceMemory(families);
    this.claims = new SupportClaims(store, clock, licensing, log, families, this.memory, (macs, action) => this.changed(macs, action));
    this.lastSeen = new LastSeen(store, this.memory);
    this.history = new OutcomeHistory(bus, options);
    this.userLines = new UserLines(store, bus, directory, log, {
      releaseIn: (tx, mac, by, reason) => this.releaseIn(tx, mac, by, reason),
      publish: (tx, macs, action) => this.publish(tx, macs, action),
    });
    this.views = new DeviceViews(store, families, this.memory, this.lastSeen);
  }

  /** The provisioning hot path: a license for a known device (see SupportClaims). */
  claim: SupportClaims['claim'] = (mac) => this.claims.claim(mac);
  touch: LastSeen['touch'] = (mac, ip, model, firmware) => this.lastSeen.touch(mac, ip, model, firmware);
  flushSeen: LastSeen['flushSeen'] = () => this.lastSeen.flushSeen();
  note: OutcomeHistory['note'] = (e) => this.history.note(e);
  events: OutcomeHistory['events'] = (f) => this.history.events(f);
  list: DeviceViews['list'] = (f) => this.views.list(f);
  refreshUsers: UserLines['refreshUsers'] = () => this.userLines.refreshUsers();
  /** No refresh after the store closes. */
  stop: UserLines['stop'] = () => this.userLines.stop();

  /** Load the table into memory and register with licensing (usage, holders, removal plans). */
  async load(): Promise<void> {
    this.memory.index.clear();
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
          mac: v[0] as string, vendor: v[1] as string, model: v[2] as string, blocked: v[3] === 1, userName: v[4] as string | null, line: v[5] as number,
          displayName: v[6] as string, sipUser: v[7] as string, sipPassword: v[8] as string, licenseCode: v[9] as string | null, waitingSince: v[10] as string | null,
        };
        this.memory.index.set(d.mac, d);
      }
      if (page!.n < LOAD_PAGE) break;
      after = page!.last!;
    }
    this.memory.recount();
    this.licensing.addUsageProvider((q) => this.views.licensesUsed(q));
    this.licensing.addHolderSource({
      codes: (code) => Object.values(this.families.licenseCode).includes(code),
      holders: (q, code, limit) => this.views.holders(q, code, limit),
      release: async (tx, holder, code, by) => {
        if (holder.kind !== 'device') return;
        await this.releaseIn(tx, holder.id, by, 'license plan', code);
      },
    });
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
    return { ...this.memory.byState };
  }

  get(mac: string): DeviceRecord | undefined {
    return this.memory.index.get(mac);
  }

  all(): IterableIterator<DeviceRecord> {
    return this.memory.index.values();
  }

  get size(): number {
    return this.memory.index.size;
  }

  /** Re-read rows inside the transaction; publish them to memory (and listeners) once it commits. */
  private async publish(tx: Tx, macs: string[], action: string): Promise<void> {
    const rows: Array<[string, DeviceRow | undefined]> = [];
    for (const mac of macs) rows.push([mac, await tx.get<DeviceRow>('SELECT * FROM devices WHERE mac = ?', [mac])]);
    tx.afterCommit(() => {
      for (const [mac, r] of rows) this.memory.remember(mac, r ? toRecord(r) : undefined);
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
  async recordUnknown(d: { mac: string; vendor: string; model: string; firmware: string; ip: string }): Promise<'recorded' | 'bounded' | 'exists'> {
    if (this.memory.index.has(d.mac)) return 'exists';
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
    this.views.mustBeFamily(vendor);
    const now = this.clock.now().toISOString();
    await this.store.write(async (tx) => {
      // A support license is of one family: a device recorded anew as another family gives its license back.
      await tx.run(
        `INSERT INTO devices (mac, vendor, model, source, created_at) VALUES (?, ?, ?, 'admin', ?)
         ON CONFLICT(mac) DO UPDATE SET vendor = excluded.vendor, model = CASE WHEN excluded.model = '' THEN model ELSE excluded.model END,
           license_code = CASE WHEN excluded.vendor = vendor THEN license_code END,
           licensed_at = CASE WHEN excluded.vendor = vendor THEN licensed_at END,
           waiting_since = CASE WHEN excluded.vendor = vendor THEN waiting_since END`,
        [mac, vendor, model.slice(0, 64), now],
      );
      await this.audit.append(tx, by, 'device.add', mac, { vendor, model });
      await this.publish(tx, [mac], 'added');
    });
    return this.views.viewOf(mac);
  }

  /** Assign a device to a user: it gets its own line with a new SIP password. */
  async assign(macRaw: string, userName: string, line: number | undefined, by: string): Promise<DeviceView> {
    const mac = this.must(macRaw);
    await this.store.write(async (tx) => {
      const d = await this.row(tx, mac);
      if (d.blocked) throw refuse('DEV_BLOCKED', { mac });
      const u = await this.directory.lineOf(tx, userName);
      if (!u) throw refuse('DEV_USER_NOT_FOUND', { userName: userName.slice(0, 80) });
      // A user waiting for a seat has none: a phone line would be the seat they were not given.
      if (u.status !== 'active') throw refuse('DEV_USER_PENDING', { userName: u.user_name });
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
    return this.views.viewOf(mac);
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
      // Without a code, releaseIn finds nothing only when there is no such device.
      if (!(await this.releaseIn(tx, mac, by, 'admin'))) throw refuse('DEV_NOT_FOUND', { mac });
    });
    return this.views.viewOf(mac);
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
    return this.views.viewOf(mac);
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

  /** Release the support licenses of Cisco/Unify phones not seen for `days` days. */
  async releaseStale(days: number, by: string): Promise<string[]> {
    await this.lastSeen.flushSeen();
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
}
