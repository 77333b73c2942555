import type { Store } from '../../store/store.js';
import type { Clock } from '../../kernel/clock.js';
import type { AuditLog } from '../audit.js';
import { refuse as refuseCommon } from '../../kernel/refusal.js';
import { chunks, EVENT_NAMES, refuse, validateUser, type UserInput } from './model.js';
import type { Directory, UserRow } from './directory.js';
import type { SeatPools } from './seat-pools.js';

/**
 * Users arriving in bulk: a directory sync's import, and the approval of the
 * users it left pending. Each runs in one write; rows are written through the
 * directory, seats are taken from the pools.
 */
export class UserIntake {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly directory: Directory,
    private readonly pools: SeatPools,
  ) {}

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
        throw refuseCommon('REQ_INVALID', { field: `users[${i}]`, problem: (e as Error).message });
      }
    });
    const seen = new Set<string>();
    for (const r of valid) {
      const k = r.userName.toLowerCase();
      if (seen.has(k)) throw refuseCommon('REQ_INVALID', { field: 'users', problem: `${r.userName} appears twice` });
      seen.add(k);
    }
    return this.store.write(async (tx) => {
      const result = { created: [] as string[], pending: [] as string[], updated: [] as string[], unchanged: 0, skipped: [] as Array<{ userName: string; reason: string }> };
      const existing = new Map<string, UserRow>();
      for (const part of chunks(valid.map((r) => r.userName))) for (const row of await this.directory.rowsNamed(tx, part)) existing.set(row.user_name.toLowerCase(), row);
      const state = await this.pools.state(tx);
      const now = this.clock.now().toISOString();
      for (const r of valid) {
        const cur = existing.get(r.userName.toLowerCase());
        if (cur) {
          const same = cur.first_name === (r.firstName ?? '') && cur.last_name === (r.lastName ?? '') && (cur.extension ?? null) === (r.extension ?? null) && (cur.tenant ?? null) === (r.tenant ?? null);
          if (same) result.unchanged++;
          else if ((cur.tenant ?? null) !== (r.tenant ?? null) && cur.status === 'active') result.skipped.push({ userName: cur.user_name, reason: 'moving an active user to another tenant is done by an admin (PATCH), not by import' });
          else {
            await this.directory.checkExtension(tx, r.extension, cur.user_name);
            const tenantId = await this.pools.tenantId(tx, r.tenant, true);
            await this.directory.setFields(tx, cur.id, { firstName: r.firstName ?? '', lastName: r.lastName ?? '', extension: r.extension ?? null, tenantId }, now);
            result.updated.push(cur.user_name);
          }
          continue;
        }
        await this.directory.checkExtension(tx, r.extension, r.userName);
        const tenantId = await this.pools.tenantId(tx, r.tenant, true);
        if (tenantId !== null && !state.pools.has(tenantId)) state.pools.set(tenantId, { id: tenantId, name: r.tenant!, seats: 0, used: 0 });
        const status = this.pools.take(state, tenantId) ? 'pending' : 'active';
        await this.directory.insert(tx, r, tenantId, status, 'import', now);
        (status === 'active' ? result.created : result.pending).push(r.userName);
      }
      // A sync that changed nothing (an empty list, or the same directory again) leaves no audit entry or event:
      // a directory sync every hour would otherwise bury the real changes in the audit log.
      if (result.created.length + result.pending.length + result.updated.length === 0) return result;
      await this.audit.append(tx, by, 'user.import', `${valid.length} records`, { created: result.created.length, pending: result.pending.length, updated: result.updated.length, unchanged: result.unchanged });
      this.directory.changed(tx, 'imported', [...result.created, ...result.pending, ...result.updated]);
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
        rows = await this.directory.pending(tx);
      } else {
        const named: Array<{ id: number; user_name: string; tenant_id: number | null; status: string }> = [];
        for (const part of chunks(which.userNames)) named.push(...(await this.directory.idsNamed(tx, part)));
        const found = new Set(named.map((r) => r.user_name.toLowerCase()));
        const missing = which.userNames.filter((n) => !found.has(n.toLowerCase()));
        if (missing.length) throw refuseCommon('REQ_NOT_FOUND', { what: `User ${missing[0]}` });
        rows = named.filter((r) => r.status === 'pending');
      }
      const state = await this.pools.state(tx);
      const fitting = rows.filter((r) => this.pools.take(state, r.tenant_id) === null);
      if (!('all' in which) && fitting.length < rows.length) throw refuse('SEATS_APPROVAL_EXCEEDS', { requested: rows.length, fit: fitting.length });
      const now = this.clock.now().toISOString();
      await this.directory.activate(tx, fitting.map((r) => r.id), now);
      const approved = fitting.map((r) => r.user_name);
      if (approved.length) {
        await this.audit.append(tx, by, 'user.approve', approved.length === 1 ? approved[0]! : `${approved.length} users`, { users: approved.slice(0, EVENT_NAMES) });
        this.directory.changed(tx, 'approved', approved);
      }
      const stillPending = await this.directory.pendingCount(tx);
      return { approved, stillPending };
    });
  }
}
