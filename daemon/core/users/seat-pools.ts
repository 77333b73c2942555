import type { Param, Store, Tx } from '../../store/store.js';
import type { Clock } from '../../kernel/clock.js';
import type { EventBus } from '../../kernel/events.js';
import type { AuditLog } from '../audit.js';
import type { Licensing } from '../../licensing/licensing.js';
import { refuse as refuseCommon } from '../../kernel/refusal.js';
import { refuse, refuseSeats } from './model.js';

/** How many users a tenant has, asked of the directory (the owner of `users`). */
export interface TenantMembers {
  count(q: Pick<Tx, 'get'>, tenantId: number): Promise<number>;
  pendingByTenant(q: Pick<Tx, 'all'>): Promise<Map<number, number>>;
}

export type SeatState = Awaited<ReturnType<SeatPools['state']>>;

/**
 * The server's user seats and the tenants' pools of them: owns `tenants` and
 * `seats_used` (kept by triggers on `users`, migration 13). Checks run on a
 * state read inside the caller's write, so no race can pass a limit.
 */
export class SeatPools {
  constructor(
    private readonly store: Store,
    private readonly licensing: Licensing,
    private readonly audit: AuditLog,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly members: TenantMembers,
  ) {}

  /** Seats in use overall (the licensing usage of code `users`). */
  async used(q: Pick<Tx, 'get'>): Promise<number> {
    return (await q.get<{ n: number }>('SELECT COALESCE(SUM(used), 0) AS n FROM seats_used'))?.n ?? 0;
  }

  /**
   * Seats in force and in use, overall and per tenant pool, as seen inside a
   * write. `probe`: a JSON expression of the caller's own checks (a
   * registration's name and extension), answered in the same round trip.
   */
  async state(tx: Pick<Tx, 'get' | 'all'>, probe: { sql: string; params: Param[] } = { sql: 'NULL', params: [] }) {
    const total = this.licensing.quotas().quantities.users ?? 0;
    // The pools, then a row (id NULL) with the seats used overall and the probe's answer.
    const rows = await tx.all<{ id: number | null; name: string; seats: number; used: number; probe: string | null }>(
      `SELECT t.id, t.name, t.seats, COALESCE(s.used, 0) AS used, NULL AS probe FROM tenants t LEFT JOIN seats_used s ON s.tenant_id = t.id
       UNION ALL SELECT NULL, '', 0, (SELECT COALESCE(SUM(used), 0) FROM seats_used), ${probe.sql}`,
      probe.params,
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
      probe: overall.probe,
    };
  }

  /** Take a seat for a user of `tenantId` in `state`, or say why not (the refusal is thrown by the caller). */
  take(state: SeatState, tenantId: number | null) {
    if (state.used >= state.total) return refuseSeats(state.used, state.total);
    if (tenantId !== null) {
      const pool = state.pools.get(tenantId)!;
      if (pool.used >= pool.seats) return refuse('TENANT_SEATS_EXHAUSTED', { tenant: pool.name, used: pool.used, seats: pool.seats });
      pool.used++;
    } else {
      if (state.unpooledFree <= 0) return refuseSeats(state.used, state.total);
      state.unpooledFree--;
    }
    state.used++;
    return null;
  }

  /** Give back in `state` the seat of an active user of `tenantId` (a move to another pool takes a new one). */
  leave(state: SeatState, tenantId: number | null): void {
    state.used--;
    if (tenantId !== null) state.pools.get(tenantId)!.used--;
    else state.unpooledFree++;
  }

  async tenantId(tx: Tx, name: string | null | undefined, create: boolean): Promise<number | null> {
    if (!name) return null;
    const row = await tx.get<{ id: number }>('SELECT id FROM tenants WHERE name = ?', [name]);
    if (row) return row.id;
    if (!create) throw refuseCommon('REQ_NOT_FOUND', { what: `Tenant ${name}` });
    // A directory sync may name a company we have no pool for: it gets an empty pool, its users wait.
    return (await tx.run('INSERT INTO tenants (name, seats, created_at) VALUES (?, 0, ?)', [name, this.clock.now().toISOString()])).lastID;
  }

  async tenants(): Promise<{ tenants: Array<{ name: string; seats: number; used: number; pending: number }>; total: number; pooled: number }> {
    const rows = await this.store.all<{ id: number; name: string; seats: number; used: number }>(
      'SELECT t.id, t.name, t.seats, COALESCE(s.used, 0) AS used FROM tenants t LEFT JOIN seats_used s ON s.tenant_id = t.id ORDER BY t.name',
    );
    const pending = await this.members.pendingByTenant(this.store);
    return {
      tenants: rows.map((r) => ({ name: r.name, seats: r.seats, used: r.used, pending: pending.get(r.id) ?? 0 })),
      total: this.licensing.quotas().quantities.users ?? 0,
      pooled: rows.reduce((s, r) => s + r.seats, 0),
    };
  }

  /** Create a pool or resize it: never below its users, never all pools above the license. */
  async setPool(name: string, seats: number, by: string): Promise<void> {
    if (typeof name !== 'string' || name.trim() === '' || name.length > 100) throw refuseCommon('REQ_INVALID', { field: 'tenant', problem: 'a name of at most 100 characters' });
    await this.store.write(async (tx) => {
      const state = await this.state(tx);
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
      if (!cur) throw refuseCommon('REQ_NOT_FOUND', { what: `Tenant ${name}` });
      const n = await this.members.count(tx, cur.id);
      if (n > 0) throw refuse('TENANT_NOT_EMPTY', { tenant: cur.name, users: n });
      await tx.run('DELETE FROM tenants WHERE id = ?', [cur.id]);
      await this.audit.append(tx, by, 'tenant.delete', cur.name);
      tx.afterCommit(() => this.bus.emit('tenants.changed', { tenant: cur.name, seats: null }));
    });
  }
}
