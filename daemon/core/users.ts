import type { Store, Tx } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import type { EventBus } from '../kernel/events.js';
import type { AuditLog } from './audit.js';
import type { Holder, Licensing } from '../licensing/licensing.js';
import { defineRefusals, entry, fixed, refuse as coreRefuse } from '../kernel/refusal.js';
import { labelOf } from '../licensing/format.js';
import { orderBy, pageOf, startsWith, type PageAsk } from './paging.js';

export const refuse = defineRefusals({
  SEATS_EXHAUSTED: entry<{ used: number; total: number }>(409,
    (d) => ({ en: `${d.used} of ${d.total} user seats in use.`, de: `${d.used} von ${d.total} Benutzerlizenzen belegt.` }),
    fixed({ en: 'Delete a user, or install a license with more users.', de: 'Löschen Sie einen Benutzer oder installieren Sie eine Lizenz mit mehr Benutzern.' })),
  TENANT_SEATS_EXHAUSTED: entry<{ tenant: string; used: number; seats: number }>(409,
    (d) => ({ en: `${d.used} of ${d.seats} seats of "${d.tenant}" in use.`, de: `${d.used} von ${d.seats} Plätzen von "${d.tenant}" belegt.` }),
    (d) => ({ en: `Raise the seat pool of "${d.tenant}", or delete one of its users.`, de: `Erhöhen Sie den Platz-Pool von "${d.tenant}" oder löschen Sie einen seiner Benutzer.` })),
  SEATS_APPROVAL_EXCEEDS: entry<{ requested: number; fit: number }>(409,
    (d) => ({ en: `${d.requested} users cannot all be approved: only ${d.fit} fit into the free seats. None was approved.`, de: `${d.requested} Benutzer können nicht alle freigegeben werden: nur ${d.fit} passen in die freien Plätze. Keiner wurde freigegeben.` }),
    fixed({ en: 'Approve fewer users (or all that fit), or free seats first.', de: 'Geben Sie weniger Benutzer frei (oder alle, die passen), oder schaffen Sie zuerst Platz.' })),
  USER_BUILTIN: entry<{ userName: string }>(409,
    (d) => ({ en: `"${d.userName}" is the appliance's built-in account and cannot be deleted or renamed.`, de: `"${d.userName}" ist das eingebaute Konto der Anlage und kann nicht gelöscht oder umbenannt werden.` }),
    fixed({ en: 'Leave the built-in account as it is.', de: 'Lassen Sie das eingebaute Konto unverändert.' })),
  USER_PENDING: entry<{ userNames: string[] }>(409,
    (d) => ({ en: `Pending users cannot hold licenses: ${d.userNames.slice(0, 10).join(', ')}.`, de: `Nicht freigegebene Benutzer können keine Lizenzen erhalten: ${d.userNames.slice(0, 10).join(', ')}.` }),
    fixed({ en: 'Approve the users first.', de: 'Geben Sie die Benutzer zuerst frei.' })),
  EXTENSION_TAKEN: entry<{ extension: string; userName: string }>(409,
    (d) => ({ en: `Extension ${d.extension} belongs to "${d.userName}".`, de: `Die Durchwahl ${d.extension} gehört "${d.userName}".` }),
    fixed({ en: 'Choose another extension.', de: 'Wählen Sie eine andere Durchwahl.' })),
  USERLIC_UNKNOWN_CODE: entry<{ code: string; known: string[] }>(400,
    (d) => ({ en: `The license has no per-user code "${d.code}" (it has: ${d.known.join(', ') || 'none'}).`, de: `Die Lizenz hat keinen benutzerbezogenen Code "${d.code}" (vorhanden: ${d.known.join(', ') || 'keiner'}).` }),
    fixed({ en: 'Use a code of the license in force.', de: 'Verwenden Sie einen Code der gültigen Lizenz.' })),
  USERLIC_QUOTA_EXCEEDED: entry<{ codes: Array<{ code: string; total: number; wouldUse: number; exceedsBy: number }> }>(409,
    (d) => ({
      en: `Not saved: ${d.codes.map((c) => `${c.code} would use ${c.wouldUse} of ${c.total} (${c.exceedsBy} too many)`).join('; ')}. Nothing was changed.`,
      de: `Nicht gespeichert: ${d.codes.map((c) => `${c.code} würde ${c.wouldUse} von ${c.total} belegen (${c.exceedsBy} zu viel)`).join('; ')}. Es wurde nichts geändert.`,
    }),
    fixed({ en: 'Untick as many boxes as shown, or book more licenses.', de: 'Entfernen Sie so viele Haken wie angegeben oder buchen Sie weitere Lizenzen.' })),
  POOL_BELOW_USERS: entry<{ tenant: string; users: number; seats: number }>(409,
    (d) => ({ en: `"${d.tenant}" has ${d.users} users; its pool cannot be set to ${d.seats}.`, de: `"${d.tenant}" hat ${d.users} Benutzer; sein Pool kann nicht auf ${d.seats} gesetzt werden.` }),
    fixed({ en: 'Delete users of the tenant first, or choose a larger pool.', de: 'Löschen Sie zuerst Benutzer des Mandanten oder wählen Sie einen größeren Pool.' })),
  POOLS_EXCEED_LICENSE: entry<{ sum: number; total: number }>(409,
    (d) => ({ en: `The pools would hold ${d.sum} seats; the license has ${d.total}.`, de: `Die Pools würden ${d.sum} Plätze umfassen; die Lizenz hat ${d.total}.` }),
    fixed({ en: 'Shrink other pools first, or install a license with more users.', de: 'Verkleinern Sie zuerst andere Pools oder installieren Sie eine Lizenz mit mehr Benutzern.' })),
  TENANT_NOT_EMPTY: entry<{ tenant: string; users: number }>(409,
    (d) => ({ en: `"${d.tenant}" still has ${d.users} users.`, de: `"${d.tenant}" hat noch ${d.users} Benutzer.` }),
    fixed({ en: 'Move or delete its users first.', de: 'Verschieben oder löschen Sie zuerst seine Benutzer.' })),
});

export const SUPERVISOR = 'supervisor';
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const EXTENSION = /^[0-9*#+]{1,20}$/;

export interface User {
  userName: string;
  firstName: string;
  lastName: string;
  tenant: string | null;
  extension: string | null;
  status: 'active' | 'pending';
  builtin: boolean;
  createdAt: string;
  lastActiveAt: string | null;
}

export interface UserInput {
  userName: string;
  firstName?: string;
  lastName?: string;
  tenant?: string | null;
  extension?: string | null;
}

export interface LicenseChange {
  userName: string;
  code: string;
  assigned: boolean;
}

interface UserRow {
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

/** SQLite allows a limited number of bound parameters per statement; big batches go in chunks. */
function chunks<T>(items: T[], size = 400): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Events carry names for the UI; a 10,000-user import carries the count and the first names. */
const EVENT_NAMES = 500;

export function validateUser(u: UserInput): UserInput {
  if (typeof u.userName !== 'string' || !USER_NAME.test(u.userName))
    throw coreRefuse('REQ_INVALID', { field: 'userName', problem: 'letters, digits, . _ @ - (1–64), starting with a letter or digit' });
  for (const k of ['firstName', 'lastName'] as const) {
    const v = u[k];
    if (v !== undefined && (typeof v !== 'string' || v.length > 100 || /[\u0000-\u001f]/.test(v))) throw coreRefuse('REQ_INVALID', { field: k, problem: 'text of at most 100 characters' });
  }
  if (u.tenant !== undefined && u.tenant !== null && (typeof u.tenant !== 'string' || u.tenant.trim() === '' || u.tenant.length > 100))
    throw coreRefuse('REQ_INVALID', { field: 'tenant', problem: 'a tenant name of at most 100 characters' });
  if (u.extension !== undefined && u.extension !== null && u.extension !== '' && (typeof u.extension !== 'string' || !EXTENSION.test(u.extension)))
    throw coreRefuse('REQ_INVALID', { field: 'extension', problem: 'digits, * # + (1–20)' });
  return { ...u, extension: u.extension === '' ? null : u.extension };
}

/**
 * Users, their seats (server total and tenant pools) and their per-user
 * licenses. Every check-then-write runs inside one `store.write`, so no race
 * can pass a limit. Knows nothing of HTTP.
 */
export class UserDirectory {
  constructor(
    private readonly store: Store,
    private readonly licensing: Licensing,
    private readonly audit: AuditLog,
    private readonly bus: EventBus,
    private readonly clock: Clock,
  ) {
    licensing.addUsageProvider(async (q) => {
      const used: Record<string, number> = {};
      const seats = await q.get<{ n: number }>('SELECT COALESCE(SUM(used), 0) AS n FROM seats_used');
      used.users = seats?.n ?? 0;
      // Kept by triggers (migration 13): a few rows, however many users hold them.
      for (const r of await q.all<{ code: string; n: number }>('SELECT code, used AS n FROM user_licenses_used')) used[r.code] = r.n;
      return used;
    });
    licensing.addHolderSource({
      codes: (code, scope) => code === 'users' || scope === 'user',
      holders: (q, code, limit) => this.holders(q, code, limit),
      release: (tx, holder, code, by) => this.releaseHolding(tx, holder.id, code, by),
    });
  }

  /** What other features hold for a user (phones) is released inside the write that deletes the user. */
  private readonly removalHooks: Array<(tx: Tx, userName: string, by: string) => Promise<void>> = [];

  onUserRemoved(fn: (tx: Tx, userName: string, by: string) => Promise<void>): void {
    this.removalHooks.push(fn);
  }

  private perUserCodes(): string[] {
    return Object.keys(this.licensing.quotas().perUser);
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

  // ── seats ──

  /**
   * Seats in force and in use, overall and per tenant pool, as seen inside a
   * write; with `userName`, also whether that name and `extension` are taken
   * (a registration's checks in one round trip).
   */
  private async seatState(tx: Pick<Tx, 'get' | 'all'>, userName = '', extension: string | null = null) {
    const total = this.licensing.quotas().quantities.users ?? 0;
    // The pools, then a row (id NULL) with the seats used overall, the name's owner and the extension's.
    const rows = await tx.all<{ id: number | null; name: string; seats: number; used: number; nameTaken: number; extensionOwner: string | null }>(
      `SELECT t.id, t.name, t.seats, COALESCE(s.used, 0) AS used, 0 AS nameTaken, NULL AS extensionOwner FROM tenants t LEFT JOIN seats_used s ON s.tenant_id = t.id
       UNION ALL SELECT NULL, '', 0, (SELECT COALESCE(SUM(used), 0) FROM seats_used),
         EXISTS (SELECT 1 FROM users WHERE user_name = ?1), (SELECT user_name FROM users WHERE extension = ?2 AND user_name <> ?1)`,
      [userName, extension],
    );
    const pools = rows.filter((r): r is typeof r & { id: number } => r.id !== null);
    const overall = rows.find((r) => r.id === null)!;
    const used = overall.used;
    const pooled = pools.reduce((s, p) => s + p.seats, 0);
    const unpooledUsed = used - pools.reduce((s, p) => s + p.used, 0);
    return {
      total,
      used,
      pools: new Map(pools.map((p) => [p.id, { id: p.id, name: p.name, seats: p.seats, used: p.used }])),
      unpooledFree: Math.max(0, total - pooled) - unpooledUsed,
      nameTaken: overall.nameTaken === 1,
      extensionOwner: overall.extensionOwner,
    };
  }

  /** Take a seat for a user of `tenantId` in `state`, or say why not (the refusal is thrown by the caller). */
  private takeSeat(state: Awaited<ReturnType<UserDirectory['seatState']>>, tenantId: number | null) {
    if (state.used >= state.total) return coreRefuseSeats(state.used, state.total);
    if (tenantId !== null) {
      const pool = state.pools.get(tenantId)!;
      if (pool.used >= pool.seats) return refuse('TENANT_SEATS_EXHAUSTED', { tenant: pool.name, used: pool.used, seats: pool.seats });
      pool.used++;
    } else {
      if (state.unpooledFree <= 0) return coreRefuseSeats(state.used, state.total);
      state.unpooledFree--;
    }
    state.used++;
    return null;
  }

  private async tenantId(tx: Tx, name: string | null | undefined, create: boolean): Promise<number | null> {
    if (!name) return null;
    const row = await tx.get<{ id: number }>('SELECT id FROM tenants WHERE name = ?', [name]);
    if (row) return row.id;
    if (!create) throw coreRefuse('REQ_NOT_FOUND', { what: `Tenant ${name}` });
    // A directory sync may name a company we have no pool for: it gets an empty pool, its users wait.
    return (await tx.run('INSERT INTO tenants (name, seats, created_at) VALUES (?, 0, ?)', [name, this.clock.now().toISOString()])).lastID;
  }

  private async checkExtension(tx: Tx, extension: string | null | undefined, userName: string): Promise<void> {
    if (!extension) return;
    const owner = await tx.get<{ user_name: string }>('SELECT user_name FROM users WHERE extension = ? AND user_name <> ?', [extension, userName]);
    if (owner) throw refuse('EXTENSION_TAKEN', { extension, userName: owner.user_name });
  }

  private changed(tx: Tx, action: string, userNames: string[]): void {
    tx.afterCommit(() => this.bus.emit('users.changed', { action, userNames: userNames.slice(0, EVENT_NAMES), count: userNames.length }));
  }

  /** Register a user: takes a seat (and one of its tenant's pool), or is refused with the count. */
  async register(input: UserInput, by: string): Promise<User> {
    const u = validateUser(input);
    return this.store.write(async (tx) => {
      const seats = await this.seatState(tx, u.userName, u.extension ?? null);
      if (seats.nameTaken) throw coreRefuse('REQ_CONFLICT', { what: `User ${u.userName}` });
      const pool = u.tenant ? [...seats.pools.values()].find((p) => p.name === u.tenant) : undefined;
      if (u.tenant && !pool) throw coreRefuse('REQ_NOT_FOUND', { what: `Tenant ${u.tenant}` });
      const tenantId = pool?.id ?? null;
      if (seats.extensionOwner) throw refuse('EXTENSION_TAKEN', { extension: u.extension!, userName: seats.extensionOwner });
      const refusal = this.takeSeat(seats, tenantId);
      if (refusal) throw refusal;
      const now = this.clock.now().toISOString();
      await tx.run(
        `INSERT INTO users (user_name, first_name, last_name, tenant_id, extension, status, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'active', 'admin', ?, ?)`,
        [u.userName, u.firstName ?? '', u.lastName ?? '', tenantId, u.extension ?? null, now, now],
      );
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
      if (!cur) throw coreRefuse('REQ_NOT_FOUND', { what: `User ${userName}` });
      if (cur.builtin && patch.tenant !== undefined) throw refuse('USER_BUILTIN', { userName });
      if (patch.extension !== undefined) await this.checkExtension(tx, patch.extension, cur.user_name);
      let tenantId = cur.tenant_id;
      if (patch.tenant !== undefined && (patch.tenant ?? null) !== cur.tenant) {
        tenantId = await this.tenantId(tx, patch.tenant, false);
        if (cur.status === 'active') {
          // Leave the old pool, then take a seat in the new one (server total unchanged).
          const state = await this.seatState(tx);
          state.used--;
          if (cur.tenant_id !== null) state.pools.get(cur.tenant_id)!.used--;
          else state.unpooledFree++;
          const refusal = this.takeSeat(state, tenantId);
          if (refusal) throw refusal;
        }
      }
      const fields = {
        first_name: patch.firstName ?? cur.first_name,
        last_name: patch.lastName ?? cur.last_name,
        extension: patch.extension === undefined ? cur.extension : (patch.extension ?? null),
      };
      await tx.run('UPDATE users SET first_name = ?, last_name = ?, extension = ?, tenant_id = ?, updated_at = ? WHERE id = ?', [
        fields.first_name, fields.last_name, fields.extension, tenantId, this.clock.now().toISOString(), cur.id,
      ]);
      await this.audit.append(tx, by, 'user.update', cur.user_name, { ...patch });
      this.changed(tx, 'updated', [cur.user_name]);
      return toUser((await tx.get<UserRow>(`${USER_SELECT} WHERE u.id = ?`, [cur.id]))!);
    });
  }

  /** Delete a user: its seat and every license it held are free again. */
  async delete(userName: string, by: string): Promise<void> {
    await this.store.write(async (tx) => {
      const cur = await tx.get<{ id: number; user_name: string; builtin: number }>('SELECT id, user_name, builtin FROM users WHERE user_name = ?', [userName]);
      if (!cur) throw coreRefuse('REQ_NOT_FOUND', { what: `User ${userName}` });
      if (cur.builtin) throw refuse('USER_BUILTIN', { userName: cur.user_name });
      const held = await tx.all<{ code: string }>('SELECT code FROM user_licenses WHERE user_id = ? AND suspended = 0', [cur.id]);
      await tx.run('DELETE FROM users WHERE id = ?', [cur.id]);
      for (const release of this.removalHooks) await release(tx, cur.user_name, by);
      await this.audit.append(tx, by, 'user.delete', cur.user_name, { released: held.map((h) => h.code) });
      this.changed(tx, 'deleted', [cur.user_name]);
      if (held.length) tx.afterCommit(() => this.bus.emit('userLicenses.changed', { changes: held.map((h) => ({ userName: cur.user_name, code: h.code, assigned: false })), by }));
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

  // ── directory sync ──

  /**
   * Import users as a directory sync delivers them, in one transaction. New
   * users take a free seat while there is one, the rest are kept as pending.
   * Importing the same users again changes nothing.
   */
  async import(records: UserInput[], by: string): Promise<{ created: string[]; pending: string[]; updated: string[]; unchanged: number; skipped: Array<{ userName: string; reason: string }> }> {
    const valid = records.map((r, i) => {
      try {
        return validateUser(r);
      } catch (e) {
        throw coreRefuse('REQ_INVALID', { field: `users[${i}]`, problem: (e as Error).message });
      }
    });
    const seen = new Set<string>();
    for (const r of valid) {
      const k = r.userName.toLowerCase();
      if (seen.has(k)) throw coreRefuse('REQ_INVALID', { field: 'users', problem: `${r.userName} appears twice` });
      seen.add(k);
    }
    return this.store.write(async (tx) => {
      const result = { created: [] as string[], pending: [] as string[], updated: [] as string[], unchanged: 0, skipped: [] as Array<{ userName: string; reason: string }> };
      const existing = new Map<string, UserRow>();
      for (const part of chunks(valid.map((r) => r.userName)))
        for (const row of await tx.all<UserRow>(`${USER_SELECT} WHERE u.user_name IN (${part.map(() => '?').join(',')})`, part)) existing.set(row.user_name.toLowerCase(), row);
      const state = await this.seatState(tx);
      const now = this.clock.now().toISOString();
      for (const r of valid) {
        const cur = existing.get(r.userName.toLowerCase());
        if (cur) {
          const same = cur.first_name === (r.firstName ?? '') && cur.last_name === (r.lastName ?? '') && (cur.extension ?? null) === (r.extension ?? null) && (cur.tenant ?? null) === (r.tenant ?? null);
          if (same) result.unchanged++;
          else if ((cur.tenant ?? null) !== (r.tenant ?? null) && cur.status === 'active') result.skipped.push({ userName: cur.user_name, reason: 'moving an active user to another tenant is done by an admin (PATCH), not by import' });
          else {
            await this.checkExtension(tx, r.extension, cur.user_name);
            const tenantId = await this.tenantId(tx, r.tenant, true);
            await tx.run('UPDATE users SET first_name = ?, last_name = ?, extension = ?, tenant_id = ?, updated_at = ? WHERE id = ?', [r.firstName ?? '', r.lastName ?? '', r.extension ?? null, tenantId, now, cur.id]);
            result.updated.push(cur.user_name);
          }
          continue;
        }
        await this.checkExtension(tx, r.extension, r.userName);
        const tenantId = await this.tenantId(tx, r.tenant, true);
        if (tenantId !== null && !state.pools.has(tenantId)) state.pools.set(tenantId, { id: tenantId, name: r.tenant!, seats: 0, used: 0 });
        const status = this.takeSeat(state, tenantId) ? 'pending' : 'active';
        await tx.run(
          `INSERT INTO users (user_name, first_name, last_name, tenant_id, extension, status, source, created_at, updated_at, pending_since) VALUES (?, ?, ?, ?, ?, ?, 'import', ?, ?, ?)`,
          [r.userName, r.firstName ?? '', r.lastName ?? '', tenantId, r.extension ?? null, status, now, now, status === 'pending' ? now : null],
        );
        (status === 'active' ? result.created : result.pending).push(r.userName);
      }
      // A sync that changed nothing (an empty list, or the same directory again) leaves no audit entry or event:
      // a directory sync every hour would otherwise bury the real changes in the audit log.
      if (result.created.length + result.pending.length + result.updated.length === 0) return result;
      await this.audit.append(tx, by, 'user.import', `${valid.length} records`, { created: result.created.length, pending: result.pending.length, updated: result.updated.length, unchanged: result.unchanged });
      this.changed(tx, 'imported', [...result.created, ...result.pending, ...result.updated]);
      return result;
    });
  }

  /**
   * Approve pending users. A list is approved whole or not at all (the refusal
   * says how many would fit); `all` approves as many as fit, longest waiting first.
   */
  async approve(which: { userNames: string[] } | { all: true }, by: string): Promise<{ approved: string[]; stillPending: number }> {
    return this.store.write(async (tx) => {
      let rows: Array<{ id: number; user_name: string; tenant_id: number | null }>;
      if ('all' in which) {
        rows = await tx.all("SELECT id, user_name, tenant_id FROM users WHERE status = 'pending' ORDER BY pending_since, id");
      } else {
        rows = [];
        for (const part of chunks(which.userNames)) rows.push(...(await tx.all<{ id: number; user_name: string; tenant_id: number | null; status: string }>(`SELECT id, user_name, tenant_id, status FROM users WHERE user_name IN (${part.map(() => '?').join(',')})`, part)));
        const found = new Set(rows.map((r) => r.user_name.toLowerCase()));
        const missing = which.userNames.filter((n) => !found.has(n.toLowerCase()));
        if (missing.length) throw coreRefuse('REQ_NOT_FOUND', { what: `User ${missing[0]}` });
        rows = rows.filter((r) => (r as { status?: string }).status === 'pending');
      }
      const state = await this.seatState(tx);
      const fitting = rows.filter((r) => this.takeSeat(state, r.tenant_id) === null);
      if (!('all' in which) && fitting.length < rows.length) throw refuse('SEATS_APPROVAL_EXCEEDS', { requested: rows.length, fit: fitting.length });
      const now = this.clock.now().toISOString();
      for (const part of chunks(fitting.map((r) => r.id))) await tx.run(`UPDATE users SET status = 'active', pending_since = NULL, updated_at = ? WHERE id IN (${part.map(() => '?').join(',')})`, [now, ...part]);
      const approved = fitting.map((r) => r.user_name);
      if (approved.length) {
        await this.audit.append(tx, by, 'user.approve', approved.length === 1 ? approved[0]! : `${approved.length} users`, { users: approved.slice(0, EVENT_NAMES) });
        this.changed(tx, 'approved', approved);
      }
      const stillPending = (await tx.get<{ n: number }>("SELECT COUNT(*) AS n FROM users WHERE status = 'pending'"))!.n;
      return { approved, stillPending };
    });
  }

  // ── tenant pools ──

  async tenants(): Promise<{ tenants: Array<{ name: string; seats: number; used: number; pending: number }>; total: number; pooled: number }> {
    const rows = await this.store.all<{ name: string; seats: number; used: number; pending: number }>(
      `SELECT t.name, t.seats,
        COALESCE((SELECT used FROM seats_used s WHERE s.tenant_id = t.id), 0) AS used,
        (SELECT COUNT(*) FROM users u WHERE u.tenant_id = t.id AND u.status = 'pending') AS pending
       FROM tenants t ORDER BY t.name`,
    );
    return { tenants: rows, total: this.licensing.quotas().quantities.users ?? 0, pooled: rows.reduce((s, r) => s + r.seats, 0) };
  }

  /** Create a pool or resize it: never below its users, never all pools above the license. */
  async setPool(name: string, seats: number, by: string): Promise<void> {
    if (typeof name !== 'string' || name.trim() === '' || name.length > 100) throw coreRefuse('REQ_INVALID', { field: 'tenant', problem: 'a name of at most 100 characters' });
    await this.store.write(async (tx) => {
      const state = await this.seatState(tx);
      const cur = await tx.get<{ id: number; seats: number }>('SELECT id, seats FROM tenants WHERE name = ?', [name]);
      const users = cur ? state.pools.get(cur.id)!.used : 0;
      if (seats < users) throw refuse('POOL_BELOW_USERS', { tenant: name, users, seats });
      const sum = [...state.pools.values()].reduce((s, p) => s + (p.id === cur?.id ? 0 : p.seats), 0) + seats;
      if (sum > state.total) throw refuse('POOLS_EXCEED_LICENSE', { sum, total: state.total });
      if (cur) await tx.run('UPDATE tenants SET seats = ? WHERE id = ?', [seats, cur.id]);
      else await tx.run('INSERT INTO tenants (name, seats, created_at) VALUES (?, ?, ?)', [name, seats, this.clock.now().toISOString()]);
      await this.audit.append(tx, by, 'tenant.pool', name, { from: cur?.seats ?? null, to: seats });
      tx.afterCommit(() => this.bus.emit('tenants.changed', { tenant: name, seats }));
    });
  }

  async deleteTenant(name: string, by: string): Promise<void> {
    await this.store.write(async (tx) => {
      const cur = await tx.get<{ id: number; name: string }>('SELECT id, name FROM tenants WHERE name = ?', [name]);
      if (!cur) throw coreRefuse('REQ_NOT_FOUND', { what: `Tenant ${name}` });
      const n = (await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM users WHERE tenant_id = ?', [cur.id]))!.n;
      if (n > 0) throw refuse('TENANT_NOT_EMPTY', { tenant: cur.name, users: n });
      await tx.run('DELETE FROM tenants WHERE id = ?', [cur.id]);
      await this.audit.append(tx, by, 'tenant.delete', cur.name);
      tx.afterCommit(() => this.bus.emit('tenants.changed', { tenant: cur.name, seats: null }));
    });
  }

  // ── per-user licenses ──

  /** The per-user codes of the license in force, each with its label, used and total. */
  async licenseCodes() {
    const { perUser } = this.licensing.quotas();
    const used = await this.licensing.usage();
    const p = this.licensing.active();
    return Object.keys(perUser).map((code) => ({ code, label: labelOf(code, p), used: used[code] ?? 0, total: perUser[code] ?? 0 }));
  }

  /** The table of the license page: a page of active users with one boolean per code, and used/total per code. */
  async licenseTable(f: { q?: string } & PageAsk = {}) {
    const codes = Object.keys(this.licensing.quotas().perUser);
    if (f.sort === 'pendingSince') throw coreRefuse('REQ_INVALID', { field: 'sort', problem: 'the license table lists active users only' });
    const { total, users, limit, offset } = await this.list({ ...f, status: 'active' });
    const held = new Map<string, Set<string>>();
    for (const part of chunks(users.map((u) => u.userName))) {
      const rows = await this.store.all<{ user_name: string; code: string }>(
        `SELECT u.user_name, l.code FROM user_licenses l JOIN users u ON u.id = l.user_id WHERE l.suspended = 0 AND u.user_name IN (${part.map(() => '?').join(',')})`,
        part,
      );
      for (const r of rows) held.set(r.user_name, (held.get(r.user_name) ?? new Set()).add(r.code));
    }
    return {
      total,
      limit,
      offset,
      codes: await this.licenseCodes(),
      users: users.map((u) => ({ userName: u.userName, firstName: u.firstName, lastName: u.lastName, licenses: Object.fromEntries(codes.map((c) => [c, held.get(u.userName)?.has(c) ?? false])) })),
    };
  }

  /**
   * Apply a batch of per-user license changes, all or nothing. A batch that
   * would exceed a quota is refused naming each code and by how much.
   */
  async applyLicenseChanges(changes: LicenseChange[], by: string): Promise<{ applied: number }> {
    if (changes.length === 0) return { applied: 0 };
    const known = this.perUserCodes();
    for (const c of changes) if (!known.includes(c.code)) throw refuse('USERLIC_UNKNOWN_CODE', { code: c.code, known });
    return this.store.write(async (tx) => {
      const { perUser } = this.licensing.quotas();
      const names = [...new Set(changes.map((c) => c.userName.toLowerCase()))];
      const users = new Map<string, { id: number; user_name: string; status: string }>();
      for (const part of chunks(names))
        for (const r of await tx.all<{ id: number; user_name: string; status: string }>(`SELECT id, user_name, status FROM users WHERE user_name IN (${part.map(() => '?').join(',')})`, part))
          users.set(r.user_name.toLowerCase(), r);
      const missing = names.find((n) => !users.has(n));
      if (missing) throw coreRefuse('REQ_NOT_FOUND', { what: `User ${changes.find((c) => c.userName.toLowerCase() === missing)!.userName}` });
      const pending = changes.filter((c) => c.assigned && users.get(c.userName.toLowerCase())!.status === 'pending').map((c) => c.userName);
      if (pending.length) throw refuse('USER_PENDING', { userNames: pending });

      // The final wish per (user, code); later entries of the batch win.
      type Wish = { id: number; userName: string; code: string; assigned: boolean };
      const wish = new Map<string, Wish>();
      for (const c of changes) {
        const u = users.get(c.userName.toLowerCase())!;
        wish.set(`${u.id}:${c.code}`, { id: u.id, userName: u.user_name, code: c.code, assigned: c.assigned });
      }
      const ids = [...new Set([...wish.values()].map((w) => w.id))];
      const have = new Map<string, number>(); // key → suspended flag
      for (const part of chunks(ids))
        for (const r of await tx.all<{ user_id: number; code: string; suspended: number }>(`SELECT user_id, code, suspended FROM user_licenses WHERE user_id IN (${part.map(() => '?').join(',')})`, part))
          have.set(`${r.user_id}:${r.code}`, r.suspended);

      const add: Wish[] = [];
      const remove: Wish[] = [];
      for (const [key, w] of wish) {
        const h = have.get(key);
        if (w.assigned && h !== 0) add.push(w); // new, or suspended → in force again
        if (!w.assigned && h !== undefined) remove.push(w);
      }
      const used = await this.licensing.usage(tx);
      const delta: Record<string, number> = {};
      for (const a of add) delta[a.code] = (delta[a.code] ?? 0) + 1;
      for (const r of remove) if (have.get(`${r.id}:${r.code}`) === 0) delta[r.code] = (delta[r.code] ?? 0) - 1;
      const over = Object.entries(delta)
        .map(([code, d]) => ({ code, total: perUser[code] ?? 0, wouldUse: (used[code] ?? 0) + d }))
        .filter((c) => c.wouldUse > c.total && (delta[c.code] ?? 0) > 0)
        .map((c) => ({ ...c, exceedsBy: c.wouldUse - c.total }));
      if (over.length) throw refuse('USERLIC_QUOTA_EXCEEDED', { codes: over });

      const now = this.clock.now().toISOString();
      for (const part of chunks(remove, 300)) await tx.run(`DELETE FROM user_licenses WHERE ${part.map(() => '(user_id = ? AND code = ?)').join(' OR ')}`, part.flatMap((r) => [r.id, r.code]));
      for (const part of chunks(add, 300))
        await tx.run(`INSERT INTO user_licenses (user_id, code, assigned_at, suspended) VALUES ${part.map(() => '(?, ?, ?, 0)').join(',')} ON CONFLICT(user_id, code) DO UPDATE SET suspended = 0, assigned_at = excluded.assigned_at`, part.flatMap((a) => [a.id, a.code, now]));
      const applied = [...add.map((a) => ({ userName: a.userName, code: a.code, assigned: true })), ...remove.map((r) => ({ userName: r.userName, code: r.code, assigned: false }))];
      if (applied.length) {
        await this.audit.append(tx, by, 'userlicense.batch', `${applied.length} changes`, {
          assigned: add.slice(0, EVENT_NAMES).map((a) => `${a.userName}:${a.code}`),
          unassigned: remove.slice(0, EVENT_NAMES).map((r) => `${r.userName}:${r.code}`),
        });
        tx.afterCommit(() => this.bus.emit('userLicenses.changed', { changes: applied, by }));
      }
      return { applied: applied.length };
    });
  }

  async holds(userName: string, code: string): Promise<boolean> {
    return !!(await this.store.get('SELECT 1 FROM user_licenses l JOIN users u ON u.id = l.user_id WHERE u.user_name = ? AND l.code = ? AND l.suspended = 0', [userName, code]));
  }

  /** Record that a user was active (a client session); the removal plan keeps the most active. */
  async touch(userName: string): Promise<void> {
    await this.store.write((tx) => tx.run('UPDATE users SET last_active_at = ? WHERE user_name = ?', [this.clock.now().toISOString(), userName]));
  }

  // ── over-use after a license change ──

  private async holders(q: Pick<Tx, 'all'>, code: string, limit: number): Promise<Holder[]> {
    const rows =
      code === 'users'
        ? await q.all<{ user_name: string; first_name: string; last_name: string; last_active_at: string | null }>(
            "SELECT user_name, first_name, last_name, last_active_at FROM users WHERE status = 'active' AND builtin = 0 ORDER BY COALESCE(last_active_at, ''), created_at LIMIT ?",
            [limit],
          )
        : await q.all<{ user_name: string; first_name: string; last_name: string; last_active_at: string | null }>(
            'SELECT u.user_name, u.first_name, u.last_name, u.last_active_at FROM user_licenses l JOIN users u ON u.id = l.user_id WHERE l.code = ? AND l.suspended = 0 ORDER BY COALESCE(u.last_active_at, \'\'), l.assigned_at LIMIT ?',
            [code, limit],
          );
    return rows.map((r) => ({ kind: 'user', id: r.user_name, name: `${r.first_name} ${r.last_name}`.trim() || r.user_name, lastActive: r.last_active_at }));
  }

  /** A removal plan's step: a user seat goes back to pending (the user is kept), a per-user code is unassigned. */
  private async releaseHolding(tx: Tx, userName: string, code: string, by: string): Promise<void> {
    const u = await tx.get<{ id: number; user_name: string; builtin: number }>('SELECT id, user_name, builtin FROM users WHERE user_name = ?', [userName]);
    if (!u) throw coreRefuse('LIC_PLAN_INVALID', { problem: `user ${userName} does not exist` });
    if (code === 'users') {
      if (u.builtin) throw coreRefuse('LIC_PLAN_INVALID', { problem: `${userName} takes no seat` });
      await tx.run("UPDATE users SET status = 'pending', pending_since = ? WHERE id = ?", [this.clock.now().toISOString(), u.id]);
      const held = await tx.all<{ code: string }>('SELECT code FROM user_licenses WHERE user_id = ?', [u.id]);
      await tx.run('DELETE FROM user_licenses WHERE user_id = ?', [u.id]);
      this.changed(tx, 'updated', [u.user_name]);
      if (held.length) tx.afterCommit(() => this.bus.emit('userLicenses.changed', { changes: held.map((h) => ({ userName: u.user_name, code: h.code, assigned: false })), by }));
    } else {
      const r = await tx.run('DELETE FROM user_licenses WHERE user_id = ? AND code = ? AND suspended = 0', [u.id, code]);
      if (r.changes === 0) throw coreRefuse('LIC_PLAN_INVALID', { problem: `${userName} does not hold ${code}` });
      tx.afterCommit(() => this.bus.emit('userLicenses.changed', { changes: [{ userName: u.user_name, code, assigned: false }], by }));
    }
  }

  /**
   * Keep per-user assignments within the allowance in force: beyond it they
   * are suspended (kept, most recently assigned first); when a license covers
   * them again they come back (earliest assigned first). Never deletes.
   */
  async reconcileSuspensions(by = 'pbxd'): Promise<{ suspended: number; restored: number }> {
    return this.store.write(async (tx) => {
      const { perUser } = this.licensing.quotas();
      const counts = await tx.all<{ code: string; held: number; susp: number }>('SELECT code, used AS held, suspended AS susp FROM user_licenses_used');
      const changes: LicenseChange[] = [];
      let suspended = 0;
      let restored = 0;
      for (const c of counts) {
        const allowance = perUser[c.code] ?? 0;
        if (c.held > allowance) {
          const rows = await tx.all<{ user_id: number; user_name: string }>(
            'SELECT l.user_id, u.user_name FROM user_licenses l JOIN users u ON u.id = l.user_id WHERE l.code = ? AND l.suspended = 0 ORDER BY l.assigned_at DESC, l.rowid DESC LIMIT ?',
            [c.code, c.held - allowance],
          );
          for (const part of chunks(rows)) await tx.run(`UPDATE user_licenses SET suspended = 1 WHERE code = ? AND user_id IN (${part.map(() => '?').join(',')})`, [c.code, ...part.map((r) => r.user_id)]);
          suspended += rows.length;
          changes.push(...rows.map((r) => ({ userName: r.user_name, code: c.code, assigned: false })));
        } else if (c.held < allowance && c.susp > 0) {
          const rows = await tx.all<{ user_id: number; user_name: string }>(
            'SELECT l.user_id, u.user_name FROM user_licenses l JOIN users u ON u.id = l.user_id WHERE l.code = ? AND l.suspended = 1 ORDER BY l.assigned_at, l.rowid LIMIT ?',
            [c.code, allowance - c.held],
          );
          for (const part of chunks(rows)) await tx.run(`UPDATE user_licenses SET suspended = 0 WHERE code = ? AND user_id IN (${part.map(() => '?').join(',')})`, [c.code, ...part.map((r) => r.user_id)]);
          restored += rows.length;
          changes.push(...rows.map((r) => ({ userName: r.user_name, code: c.code, assigned: true })));
        }
      }
      if (changes.length) {
        await this.audit.append(tx, by, 'userlicense.reconcile', `${suspended} suspended, ${restored} restored`, { mode: this.licensing.mode().mode });
        tx.afterCommit(() => this.bus.emit('userLicenses.changed', { changes, by }));
      }
      return { suspended, restored };
    });
  }

  async suspendedCount(): Promise<number> {
    return (await this.store.get<{ n: number }>('SELECT COALESCE(SUM(suspended), 0) AS n FROM user_licenses_used'))!.n;
  }

  /** Who holds suspended assignments and which, a page at a time (Entry mode: which users lost what, not only how many). */
  async suspendedByUser(limit = 50, offset = 0): Promise<{ total: number; users: Array<{ userName: string; firstName: string | null; lastName: string | null; codes: string[] }> }> {
    const total = (await this.store.get<{ n: number }>('SELECT COUNT(DISTINCT user_id) AS n FROM user_licenses WHERE suspended = 1'))!.n;
    const rows = await this.store.all<{ user_name: string; first_name: string | null; last_name: string | null; codes: string }>(
      `SELECT u.user_name, u.first_name, u.last_name, group_concat(l.code) AS codes
         FROM user_licenses l JOIN users u ON u.id = l.user_id WHERE l.suspended = 1
        GROUP BY u.id ORDER BY u.user_name LIMIT ? OFFSET ?`,
      [limit, offset],
    );
    return { total, users: rows.map((r) => ({ userName: r.user_name, firstName: r.first_name, lastName: r.last_name, codes: r.codes.split(',').sort() })) };
  }
}

function coreRefuseSeats(used: number, total: number) {
  return refuse('SEATS_EXHAUSTED', { used, total });
}
