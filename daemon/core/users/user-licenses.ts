import type { Store, Tx } from '../../store/store.js';
import type { Clock } from '../../kernel/clock.js';
import type { EventBus } from '../../kernel/events.js';
import type { AuditLog } from '../audit.js';
import type { Holder, Licensing } from '../../licensing/licensing.js';
import { refuse as refuseCommon } from '../../kernel/refusal.js';
import { labelOf } from '../../licensing/format.js';
import type { PageAsk } from '../paging.js';
import { chunks, EVENT_NAMES, holderOf, refuse, type LicenseChange } from './model.js';
import type { Directory } from './directory.js';

/**
 * Per-user licenses (client bundle, voicemail, ...): the one owner of
 * `user_licenses`, `user_licenses_used` (kept by triggers, migration 13) and
 * the suspensions beyond the allowance in force. Reads of `users` here only
 * join names to its rows; users are found and written through the directory.
 */
export class UserLicenses {
  constructor(
    private readonly store: Store,
    private readonly licensing: Licensing,
    private readonly audit: AuditLog,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly directory: Directory,
  ) {}

  private perUserCodes(): string[] {
    return Object.keys(this.licensing.quotas().perUser);
  }

  /** Assignments in force per code (the licensing usage); a few rows, however many users hold them. */
  async used(q: Pick<Tx, 'all'>): Promise<Record<string, number>> {
    const used: Record<string, number> = {};
    for (const r of await q.all<{ code: string; n: number }>('SELECT code, used AS n FROM user_licenses_used')) used[r.code] = r.n;
    return used;
  }

  /** The codes a user holds in force. */
  async inForce(tx: Pick<Tx, 'all'>, userId: number): Promise<string[]> {
    return (await tx.all<{ code: string }>('SELECT code FROM user_licenses WHERE user_id = ? AND suspended = 0', [userId])).map((r) => r.code);
  }

  /** Unassign everything a user holds (suspended too); returns the codes. */
  async dropAll(tx: Tx, userId: number): Promise<string[]> {
    const held = await tx.all<{ code: string }>('SELECT code FROM user_licenses WHERE user_id = ?', [userId]);
    await tx.run('DELETE FROM user_licenses WHERE user_id = ?', [userId]);
    return held.map((r) => r.code);
  }

  /**
   * Per user: active or not, and which of `codes` it holds in force (not
   * suspended); one statement for all users (client sessions re-check with it).
   */
  async entitlements(userIds: number[], codes: string[]): Promise<Map<number, { active: boolean; codes: Set<string> }>> {
    const rows = await this.store.all<{ id: number; status: string; code: string | null }>(
      `SELECT u.id, u.status, l.code FROM users u
       LEFT JOIN user_licenses l ON l.user_id = u.id AND l.suspended = 0 AND l.code IN (SELECT value FROM json_each(?2))
       WHERE u.id IN (SELECT value FROM json_each(?1))`,
      [JSON.stringify(userIds), JSON.stringify(codes)],
    );
    const out = new Map<number, { active: boolean; codes: Set<string> }>();
    for (const r of rows) {
      const e = out.get(r.id) ?? { active: r.status === 'active', codes: new Set<string>() };
      if (r.code) e.codes.add(r.code);
      out.set(r.id, e);
    }
    return out;
  }

  /** The per-user codes of the license in force, each with its label, used and total. */
  async licenseCodes() {
    const { perUser } = this.licensing.quotas();
    const used = await this.used(this.store);
    const p = this.licensing.active();
    return Object.keys(perUser).map((code) => ({ code, label: labelOf(code, p), used: used[code] ?? 0, total: perUser[code] ?? 0 }));
  }

  /** The table of the license page: a page of active users with one boolean per code, and used/total per code. */
  async licenseTable(f: { q?: string } & PageAsk = {}) {
    const codes = Object.keys(this.licensing.quotas().perUser);
    if (f.sort === 'pendingSince') throw refuseCommon('REQ_INVALID', { field: 'sort', problem: 'the license table lists active users only' });
    const { total, users, limit, offset } = await this.directory.list({ ...f, status: 'active' });
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
      for (const part of chunks(names)) for (const r of await this.directory.idsNamed(tx, part)) users.set(r.user_name.toLowerCase(), r);
      const missing = names.find((n) => !users.has(n));
      if (missing) throw refuseCommon('REQ_NOT_FOUND', { what: `User ${changes.find((c) => c.userName.toLowerCase() === missing)!.userName}` });
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
      // Only the per-user codes' counts matter here: one statement, not every consumer's usage.
      const used = await this.used(tx);
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

  // ── over-use after a license change ──

  /** The least recently active holders of a per-user code (a removal plan). */
  async holders(q: Pick<Tx, 'all'>, code: string, limit: number): Promise<Holder[]> {
    const rows = await q.all<{ user_name: string; first_name: string; last_name: string; last_active_at: string | null }>(
      "SELECT u.user_name, u.first_name, u.last_name, u.last_active_at FROM user_licenses l JOIN users u ON u.id = l.user_id WHERE l.code = ? AND l.suspended = 0 ORDER BY COALESCE(u.last_active_at, ''), l.assigned_at LIMIT ?",
      [code, limit],
    );
    return rows.map(holderOf);
  }

  /** A removal plan's step for a per-user code: it is unassigned. */
  async release(tx: Tx, userName: string, code: string, by: string): Promise<void> {
    const u = await this.directory.lookup(tx, userName);
    if (!u) throw refuseCommon('LIC_PLAN_INVALID', { problem: `user ${userName} does not exist` });
    const r = await tx.run('DELETE FROM user_licenses WHERE user_id = ? AND code = ? AND suspended = 0', [u.id, code]);
    if (r.changes === 0) throw refuseCommon('LIC_PLAN_INVALID', { problem: `${userName} does not hold ${code}` });
    tx.afterCommit(() => this.bus.emit('userLicenses.changed', { changes: [{ userName: u.user_name, code, assigned: false }], by }));
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
