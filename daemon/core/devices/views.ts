import type { Store, Tx } from '../../store/store.js';
import type { Holder } from '../../licensing/licensing.js';
import { refuse as refuseCommon } from '../../kernel/refusal.js';
import { orderBy, pageOf, startsWith, type PageAsk } from '../paging.js';
import type { DeviceMemory } from './memory.js';
import type { LastSeen } from './last-seen.js';
import {
  DEVICE_SORT_COLUMNS, DEVICE_SORTS, LICENSE_STATES, licenseStateOf, refuse, seenAt, toRecord,
  type DeviceFamilies, type DeviceFilter, type DeviceRow, type DeviceView, type LicenseState,
} from './model.js';

/**
 * What admins and licensing see of the devices: pages read from the table
 * through its indexes, with the last-seen details not yet written laid over
 * them; the support licenses in use and who holds them.
 */
export class DeviceViews {
  constructor(
    private readonly store: Store,
    private readonly families: DeviceFamilies,
    private readonly memory: DeviceMemory,
    private readonly lastSeen: LastSeen,
  ) {}

  /** Refuses a family name the vendor list does not know. */
  mustBeFamily(vendor: string): void {
    if (!this.families.names.includes(vendor)) throw refuse('DEV_VENDOR_UNKNOWN', { vendor: vendor.slice(0, 40), known: this.families.names.join(', ') });
  }

  /** What admins see of a device row (with the last-seen details not yet written). */
  view(r: DeviceRow): DeviceView {
    const seen = this.lastSeen.pending(r.mac);
    return {
      mac: r.mac, vendor: r.vendor, model: seen?.model || r.model, firmware: seen?.firmware || r.firmware, lastSeen: seenAt(seen) ?? r.last_seen, lastIp: seen?.ip ?? r.last_ip,
      userName: r.user_name, line: r.user_name ? r.line : null, displayName: r.user_name ? r.display_name : null, licenseState: licenseStateOf(toRecord(r), this.families),
      waitingSince: r.license_code ? null : r.waiting_since, licensedAt: r.licensed_at, createdAt: r.created_at, source: r.source,
    };
  }

  /** The view of a device as committed (after a write). */
  async viewOf(mac: string): Promise<DeviceView> {
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
      this.mustBeFamily(f.vendor);
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
    const kept = f.vendor || f.user || q ? undefined : f.state ? this.memory.byState[f.state as LicenseState] : this.memory.index.size;
    const total = kept ?? (await this.store.get<{ n: number }>(`SELECT COUNT(*) AS n FROM devices ${w}`, params))!.n;
    const rows = await this.store.all<DeviceRow>(`SELECT * FROM devices ${w} ORDER BY ${orderBy(DEVICE_SORT_COLUMNS[page.sort], page.order)} LIMIT ? OFFSET ?`, [...params, page.limit, page.offset]);
    return { total, devices: rows.map((r) => this.view(r)), limit: page.limit, offset: page.offset };
  }

  /** Support licenses in use per code (every code of the families, 0 included). */
  async licensesUsed(q: Pick<Tx, 'all'>): Promise<Record<string, number>> {
    // Kept by triggers (migration 13), not counted.
    const rows = await q.all<{ code: string; n: number }>('SELECT code, used AS n FROM devices_licensed');
    const used: Record<string, number> = Object.fromEntries(Object.values(this.families.licenseCode).map((c) => [c, 0]));
    for (const r of rows) used[r.code] = r.n;
    return used;
  }

  /** The devices that hold `code`, least recently seen first (a removal plan releases those first). */
  async holders(q: Pick<Tx, 'all'>, code: string, limit: number): Promise<Holder[]> {
    const rows = await q.all<DeviceRow>('SELECT * FROM devices WHERE license_code = ? ORDER BY COALESCE(last_seen, licensed_at) LIMIT ?', [code, limit]);
    return rows.map((r): Holder => ({ kind: 'device', id: r.mac, name: `${r.vendor} ${r.model} ${r.mac}${r.user_name ? ` (${r.user_name})` : ''}`.trim(), lastActive: seenAt(this.lastSeen.pending(r.mac)) ?? r.last_seen }));
  }
}
