import type { Store, Tx } from '../../store/store.js';
import type { Clock } from '../../kernel/clock.js';
import type { EventBus } from '../../kernel/events.js';
import type { AuditLog } from '../audit.js';
import type { Holder } from '../../licensing/licensing.js';
import { refuse as refuseCommon } from '../../kernel/refusal.js';
import { orderBy, pageOf, startsWith, type PageAsk } from '../paging.js';
import { EVENT_NAMES, holderOf, refuse, SUPERVISOR, validateUser, type User, type UserInput } from './model.js';
import type { SeatPools } from './seat-pools.js';

/** What a user holds of the per-user licenses, asked of their owner inside the caller's write. */
export interface UserHoldings {
  inForce(tx: Tx, userId: number): Promise<string[]>;
  dropAll(tx: Tx, userId: number): Promise<string[]>;
}

export interface UserRow {
  id: number;
  user_name: string;
  first_name: string;
  last_name: string;
  tenant: string | null;
  tenant_id: number | null;
  extension: string | null;
  status: 'active' | 'pending';
  builtin: number;
  created_at: string;
  last_active_at: string | null;
}

const USER_SELECT = `SELECT u.*, t.name AS tenant FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id`;

function toUser(r: UserRow): User {
  return {
    userName: r.user_name,
    firstName: r.first_name,
    lastName: r.last_name,
    tenant: r.tenant,
    extension: r.extension,
    status: r.status,
    builtin: r.builtin === 1,
    createdAt: r.created_at,
    lastActiveAt: r.last_active_at,
  };
}

export interface UserFilter {
  q?: string;
  status?: 'active' | 'pending';
  tenant?: string;
}

/** What a user list sorts by, each answered by an index (migration 12). */
export const USER_SORTS = ['userName', 'lastName', 'firstName', 'createdAt', 'pendingSince'] as const;
const USER_SORT_COLUMNS: Record<(typeof USER_SORTS)[number], string[]> = {
  userName: ['u.builtin DESC', 'u.user_name'],
  lastName: ['u.last_name COLLATE NOCASE', 'u.id'],
  firstName: ['u.first_name COLLATE NOCASE', 'u.id'],
  createdAt: ['u.created_at', 'u.id'],
  pendingSince: ['u.pending_since', 'u.id'],
};

/** The WHERE of a user list (table alias u): filters that indexes answer. */
function userWhere(f: UserFilter): { where: string; params: Array<string | number> } {
  const where: string[] = [];
  const params: Array<string | number> = [];
  if (f.q) {
    const q = f.q.trim();
    const terms = ['u.user_name', 'u.first_name COLLATE NOCASE', 'u.last_name COLLATE NOCASE', 'u.extension'].map((col) => startsWith(col, q));
    where.push(`(${terms.map((t) => t.sql).join(' OR ')})`);
    params.push(...terms.flatMap((t) => t.params));
  }
  // Nearly every user is active, so that filter is applied to the rows an index for the search or
  // the sort yields ("+" keeps the planner from reading all active users through users_status first).
  if (f.status === 'active') where.push("+u.status = 'active'");
  else if (f.status) (where.push('u.status = ?'), params.push(f.status));
  if (f.tenant) (where.push('u.tenant_id = (SELECT id FROM tenants WHERE name = ?)'), params.push(f.tenant));
  return { where: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}

/**
 * The user directory: the one owner of the `users` table. Registration and
 * moves take their seat from the pools inside the same write; other modules
 * read and mark users through the methods at the end of this class.
 */
export class Directory {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly pools: SeatPools,
    private readonly holdings: UserHoldings,
  ) {}

  /** What other features hold for a user (phones) is released inside the write that deletes the user. */
  private readonly removalHooks: Array<(tx: Tx, userName: string, by: string) => Promise<void>> = [];

  onUserRemoved(fn: (tx: Tx, userName: string, by: string) => Promise<void>): void {
    this.removalHooks.push(fn);
  }

  /** The built-in supervisor exists on every appliance; it takes no seat. */
  async ensureSupervisor(): Promise<void> {
    await this.store.write(async (tx) => {
      const now = this.clock.now().toISOString();
      await tx.run(
        `INSERT INTO users (user_name, first_name, last_name, status, builtin, source, created_at, updated_at)
         VALUES (?, '', 'Supervisor', 'active', 1, 'builtin', ?, ?) ON CONFLICT(user_name) DO NOTHING`,
        [SUPERVISOR, now, now],
      );
    });
  }

  async checkExtension(tx: Tx, extension: string | null | undefined, userName: string): Promise<void> {
    if (!extension) return;
    const owner = await tx.get<{ user_name: string }>('SELECT user_name FROM users WHERE extension = ? AND user_name <> ?', [extension, userName]);
    if (owner) throw refuse('EXTENSION_TAKEN', { extension, userName: owner.user_name });
  }

  changed(tx: Tx, action: string, userNames: string[]): void {
    tx.afterCommit(() => this.bus.emit('users.changed', { action, userNames: userNames.slice(0, EVENT_NAMES), count: userNames.length }));
  }

  /** Register a user: takes a seat (and one of its tenant's pool), or is refused with the count. */
  async register(input: UserInput, by: string): Promise<User> {
    const u = validateUser(input);
    return this.store.write(async (tx) => {
      // The seats, and whether the name and the extension are taken, in one round trip.
      const seats = await this.pools.state(tx, {
        sql: "json_object('nameTaken', EXISTS (SELECT 1 FROM users WHERE user_name = ?), 'extensionOwner', (SELECT user_name FROM users WHERE extension = ? AND user_name <> ?))",
        params: [u.userName, u.extension ?? null, u.userName],
      });
      const taken = JSON.parse(seats.probe ?? '{}') as { nameTaken: number; extensionOwner: string | null };
      if (taken.nameTaken === 1) throw refuseCommon('REQ_CONFLICT', { what: `User ${u.userName}` });
      const pool = u.tenant ? [...seats.pools.values()].find((p) => p.name === u.tenant) : undefined;
      if (u.tenant && !pool) throw refuseCommon('REQ_NOT_FOUND', { what: `Tenant ${u.tenant}` });
      const tenantId = pool?.id ?? null;
      if (taken.extensionOwner) throw refuse('EXTENSION_TAKEN', { extension: u.extension!, userName: taken.extensionOwner });
      const refusal = this.pools.take(seats, tenantId);
      if (refusal) throw refusal;
      const now = this.clock.now().toISOString();
      await this.insert(tx, u, tenantId, 'active', 'admin', now);
      await this.audit.append(tx, by, 'user.register', u.userName, { tenant: u.tenant ?? null, extension: u.extension ?? null });
      this.changed(tx, 'created', [u.userName]);
      return { userName: u.userName, firstName: u.firstName ?? '', lastName: u.lastName ?? '', tenant: tenantId === null ? null : seats.pools.get(tenantId)!.name, extension: u.extension ?? null, status: 'active', builtin: false, createdAt: now, lastActiveAt: null } satisfies User;
    });
  }

  async get(userName: string): Promise<User | null> {
    const r = await this.store.get<UserRow>(`${USER_SELECT} WHERE u.user_name = ?`, [userName]);
    return r ? toUser(r) : null;
  }

  /** Change names or extension; a tenant change needs a seat in the new pool. */
  async update(userName: string, patch: Omit<UserInput, 'userName'>, by: string): Promise<User> {
    validateUser({ userName, ...patch });
    return this.store.write(async (tx) => {
      const cur = await tx.get<UserRow>(`${USER_SELECT} WHERE u.user_name = ?`, [userName]);
      if (!cur) throw refuseCommon('REQ_NOT_FOUND', { what: `User ${userName}` });
      if (cur.builtin && patch.tenant !== undefined) throw refuse('USER_BUILTIN', { userName });
      if (patch.extension !== undefined) await this.checkExtension(tx, patch.extension, cur.user_name);
      let tenantId = cur.tenant_id;
      if (patch.tenant !== undefined && (patch.tenant ?? null) !== cur.tenant) {
        tenantId = await this.pools.tenantId(tx, patch.tenant, false);
        if (cur.status === 'active') {
          // Leave the old pool, then take a seat in the new one (server total unchanged).
          const state = await this.pools.state(tx);
          this.pools.leave(state, cur.tenant_id);
          const refusal = this.pools.take(state, tenantId);
          if (refusal) throw refusal;
        }
      }
      await this.setFields(tx, cur.id, {
        firstName: patch.firstName ?? cur.first_name,
        lastName: patch.lastName ?? cur.last_name,
        extension: patch.extension === undefined ? cur.extension : (patch.extension ?? null),
        tenantId,
      }, this.clock.now().toISOString());
      await this.audit.append(tx, by, 'user.update', cur.user_name, { ...patch });
      this.changed(tx, 'updated', [cur.user_name]);
      return toUser((await tx.get<UserRow>(`${USER_SELECT} WHERE u.id = ?`, [cur.id]))!);
    });
  }

  /** Delete a user: its seat and every license it held are free again. */
  async delete(userName: string, by: string): Promise<void> {
    await this.store.write(async (tx) => {
      const cur = await tx.get<{ id: number; user_name: string; builtin: number }>('SELECT id, user_name, builtin FROM users WHERE user_name = ?', [userName]);
      if (!cur) throw refuseCommon('REQ_NOT_FOUND', { what: `User ${userName}` });
      if (cur.builtin) throw refuse('USER_BUILTIN', { userName: cur.user_name });
      const held = await this.holdings.inForce(tx, cur.id);
      await tx.run('DELETE FROM users WHERE id = ?', [cur.id]);
      for (const release of this.removalHooks) await release(tx, cur.user_name, by);
      await this.audit.append(tx, by, 'user.delete', cur.user_name, { released: held });
      this.changed(tx, 'deleted', [cur.user_name]);
      if (held.length) tx.afterCommit(() => this.bus.emit('userLicenses.changed', { changes: held.map((code) => ({ userName: cur.user_name, code, assigned: false })), by }));
    });
  }

  /** One page of users; q is a prefix of the user name, first or last name, or extension (each through an index). */
  async list(f: UserFilter & PageAsk = {}): Promise<{ total: number; users: User[]; limit: number; offset: number }> {
    const page = pageOf(f, USER_SORTS, { sort: f.status === 'pending' ? 'pendingSince' : 'userName', order: 'asc' });
    const { where, params } = userWhere(f);
    const total = (await this.store.get<{ n: number }>(`SELECT COUNT(*) AS n FROM users u ${where}`, params))!.n;
    const rows = await this.store.all<UserRow>(`${USER_SELECT} ${where} ORDER BY ${orderBy(USER_SORT_COLUMNS[page.sort], page.order)} LIMIT ? OFFSET ?`, [...params, page.limit, page.offset]);
    return { total, users: rows.map(toUser), limit: page.limit, offset: page.offset };
  }

  // ── for the other modules: reads and marks of users, inside the caller's write where given ──

  /** A user by name (any case), or null. */
  async lookup(q: Pick<Tx, 'get'>, userName: string): Promise<{ id: number; user_name: string; status: 'active' | 'pending' } | null> {
    return (await q.get<{ id: number; user_name: string; status: 'active' | 'pending' }>('SELECT id, user_name, status FROM users WHERE user_name = ?', [userName])) ?? null;
  }

  /** A user by name (any case), or a REQ_NOT_FOUND refusal. */
  async find(q: Pick<Tx, 'get'>, userName: string): Promise<{ id: number; user_name: string; status: 'active' | 'pending' }> {
    const user = await this.lookup(q, userName);
    if (!user) throw refuseCommon('REQ_NOT_FOUND', { what: `User ${userName}` });
    return user;
  }

  /** The rows of `names` that exist (at most 400 names: the caller chunks). */
  async rowsNamed(q: Pick<Tx, 'all'>, names: string[]): Promise<UserRow[]> {
    return q.all<UserRow>(`${USER_SELECT} WHERE u.user_name IN (${names.map(() => '?').join(',')})`, names);
  }

  /** Id, name and status of those of `names` that exist (at most 400 names: the caller chunks). */
  async idsNamed(q: Pick<Tx, 'all'>, names: string[]): Promise<Array<{ id: number; user_name: string; status: 'active' | 'pending'; tenant_id: number | null }>> {
    return q.all(`SELECT id, user_name, status, tenant_id FROM users WHERE user_name IN (${names.map(() => '?').join(',')})`, names);
  }

  async nameOf(q: Pick<Tx, 'get'>, userId: number): Promise<string | null> {
    return (await q.get<{ user_name: string }>('SELECT user_name FROM users WHERE id = ?', [userId]))?.user_name ?? null;
  }

  /** What a phone line shows of its user. */
  async lineOf(q: Pick<Tx, 'get'>, userName: string): Promise<{ user_name: string; first_name: string; last_name: string; extension: string | null; status: string } | null> {
    return (await q.get<{ user_name: string; first_name: string; last_name: string; extension: string | null; status: string }>('SELECT user_name, first_name, last_name, extension, status FROM users WHERE user_name = ?', [userName])) ?? null;
  }

  /** Record that a user was active (a client session); the removal plan keeps the most active. */
  async noteActive(tx: Tx, userId: number, at: string): Promise<void> {
    await tx.run('UPDATE users SET last_active_at = ? WHERE id = ?', [at, userId]);
  }

  async insert(tx: Tx, r: UserInput, tenantId: number | null, status: 'active' | 'pending', source: 'admin' | 'import', now: string): Promise<void> {
    await tx.run(
      `INSERT INTO users (user_name, first_name, last_name, tenant_id, extension, status, source, created_at, updated_at, pending_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [r.userName, r.firstName ?? '', r.lastName ?? '', tenantId, r.extension ?? null, status, source, now, now, status === 'pending' ? now : null],
    );
  }

  async setFields(tx: Tx, id: number, f: { firstName: string; lastName: string; extension: string | null; tenantId: number | null }, now: string): Promise<void> {
    await tx.run('UPDATE users SET first_name = ?, last_name = ?, extension = ?, tenant_id = ?, updated_at = ? WHERE id = ?', [f.firstName, f.lastName, f.extension, f.tenantId, now, id]);
  }

  /** Pending users, longest waiting first (all, or those of `names`). */
  async pending(q: Pick<Tx, 'all'>): Promise<Array<{ id: number; user_name: string; tenant_id: number | null }>> {
    return q.all("SELECT id, user_name, tenant_id FROM users WHERE status = 'pending' ORDER BY pending_since, id");
  }

  async pendingCount(q: Pick<Tx, 'get'>): Promise<number> {
    return (await q.get<{ n: number }>("SELECT COUNT(*) AS n FROM users WHERE status = 'pending'"))!.n;
  }

  async activate(tx: Tx, ids: number[], now: string): Promise<void> {
    if (ids.length) await tx.run("UPDATE users SET status = 'active', pending_since = NULL, updated_at = ? WHERE id IN (SELECT value FROM json_each(?))", [now, JSON.stringify(ids)]);
  }

  /** How many users a tenant has (a pool with users cannot be deleted). */
  async count(q: Pick<Tx, 'get'>, tenantId: number): Promise<number> {
    return (await q.get<{ n: number }>('SELECT COUNT(*) AS n FROM users WHERE tenant_id = ?', [tenantId]))!.n;
  }

  async pendingByTenant(q: Pick<Tx, 'all'>): Promise<Map<number, number>> {
    const rows = await q.all<{ tenant_id: number; n: number }>("SELECT tenant_id, COUNT(*) AS n FROM users WHERE status = 'pending' AND tenant_id IS NOT NULL GROUP BY tenant_id");
    return new Map(rows.map((r) => [r.tenant_id, r.n]));
  }

  /** The least recently active seat holders (the removal plan for code `users`). */
  async seatHolders(q: Pick<Tx, 'all'>, limit: number): Promise<Holder[]> {
    const rows = await q.all<{ user_name: string; first_name: string; last_name: string; last_active_at: string | null }>(
      "SELECT user_name, first_name, last_name, last_active_at FROM users WHERE status = 'active' AND builtin = 0 ORDER BY COALESCE(last_active_at, ''), created_at LIMIT ?",
      [limit],
    );
    return rows.map(holderOf);
  }

  /** A removal plan's step for code `users`: the user goes back to pending (kept) and its licenses are unassigned. */
  async releaseSeat(tx: Tx, userName: string, by: string): Promise<void> {
    const u = await tx.get<{ id: number; user_name: string; builtin: number }>('SELECT id, user_name, builtin FROM users WHERE user_name = ?', [userName]);
    if (!u) throw refuseCommon('LIC_PLAN_INVALID', { problem: `user ${userName} does not exist` });
    if (u.builtin) throw refuseCommon('LIC_PLAN_INVALID', { problem: `${userName} takes no seat` });
    await tx.run("UPDATE users SET status = 'pending', pending_since = ? WHERE id = ?", [this.clock.now().toISOString(), u.id]);
    const held = await this.holdings.dropAll(tx, u.id);
    this.changed(tx, 'updated', [u.user_name]);
    if (held.length) tx.afterCommit(() => this.bus.emit('userLicenses.changed', { changes: held.map((code) => ({ userName: u.user_name, code, assigned: false })), by }));
  }

  /**
   * Devices whose user is gone, and the lines whose user's display name or SIP
   * user differs (of `names` only, when given): one statement each however
   * many devices, for the devices module's refresh.
   */
  async deviceLineDrift(tx: Pick<Tx, 'all'>, names: string[] | null): Promise<{ orphans: string[]; lines: Array<{ mac: string; display: string; sip_user: string }> }> {
    const only = names ? 'AND d.user_name IN (SELECT value FROM json_each(?))' : '';
    const params = names ? [JSON.stringify(names)] : [];
    const orphans = await tx.all<{ mac: string }>(`SELECT mac FROM devices d WHERE d.user_name IS NOT NULL ${only} AND NOT EXISTS (SELECT 1 FROM users u WHERE u.user_name = d.user_name)`, params);
    // Only the lines that differ come back: the pass over every line at start usually finds none,
    // and a result the size of the table would stay in node-sqlite3's malloc arena for good.
    const lines = await tx.all<{ mac: string; display: string; sip_user: string }>(
      `SELECT mac, display, sip_user FROM (
         SELECT d.mac, d.display_name AS was_display, d.sip_user AS was_sip_user,
                COALESCE(NULLIF(TRIM(u.first_name || ' ' || u.last_name), ''), d.user_name) AS display, COALESCE(u.extension, u.user_name) AS sip_user
           FROM devices d JOIN users u ON u.user_name = d.user_name WHERE true ${only})
       WHERE was_display IS NOT display OR was_sip_user IS NOT sip_user`, params);
    return { orphans: orphans.map((o) => o.mac), lines };
  }
}
