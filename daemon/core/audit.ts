import { createHash } from 'node:crypto';
import type { Store, Tx } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import type { EventBus } from '../kernel/events.js';

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: string;
  prev_hash: string;
  hash: string;
}

const GENESIS = '0'.repeat(64);

function rowHash(r: Omit<AuditRow, 'hash'>): string {
  return createHash('sha256').update(JSON.stringify([r.id, r.at, r.actor, r.action, r.subject, r.details, r.prev_hash])).digest('hex');
}

export interface AuditFilter {
  action?: string;
  actor?: string;
  text?: string;
  limit?: number;
  beforeId?: number;
}

/**
 * The audit log: who changed what, when. Rows are hash-chained (each carries
 * the hash of the one before) and the newest hash is also kept in `meta`, so an
 * edited, deleted or truncated row breaks `verify()`.
 * An entry is written inside the transaction of the change it records.
 */
export class AuditLog {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly bus: EventBus,
  ) {}

  /** The newest row as this process wrote it; null = read it from the table (at start, after a rollback). */
  private head: { id: number; hash: string } | null = null;

  async append(tx: Tx, actor: string, action: string, subject: string, details: Record<string, unknown> = {}): Promise<void> {
    // Every audit row is written by this object inside the one write queue, so the
    // head it remembers is the table's, unless the write it came from was rolled back.
    const head = this.head ?? (await tx.get<{ id: number; hash: string }>('SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1'));
    const row = {
      id: (head?.id ?? 0) + 1,
      at: this.clock.now().toISOString(),
      actor,
      action,
      subject,
      details: JSON.stringify(details),
      prev_hash: head?.hash ?? GENESIS,
    };
    const hash = rowHash(row);
    await tx.run('INSERT INTO audit (id, at, actor, action, subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      row.id, row.at, row.actor, row.action, row.subject, row.details, row.prev_hash, hash,
    ]);
    this.head = { id: row.id, hash };
    tx.onRollback(() => (this.head = null));
    // The head kept in meta (what `verify` compares the last row with) is set once per group commit.
    tx.beforeCommit('audit.head', (t) =>
      t.run(`INSERT INTO meta (key, value) SELECT 'audit_head', id || ':' || hash FROM audit WHERE id = (SELECT MAX(id) FROM audit)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value`),
    );
    tx.afterCommit(() => this.bus.emit('audit.appended', { id: row.id, action, actor }));
  }

  async list(f: AuditFilter = {}): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (f.action) (where.push('action LIKE ?'), params.push(`${f.action}%`));
    if (f.actor) (where.push('actor = ?'), params.push(f.actor));
    if (f.text) (where.push('(subject LIKE ? OR details LIKE ? OR action LIKE ? OR actor LIKE ?)'), params.push(...Array(4).fill(`%${f.text}%`)));
    if (f.beforeId) (where.push('id < ?'), params.push(f.beforeId));
    const limit = Math.min(Math.max(f.limit ?? 100, 1), 1000);
    const rows = await this.store.all<AuditRow>(
      `SELECT * FROM audit ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ${limit}`,
      params,
    );
    return rows.map((r) => ({ id: r.id, at: r.at, actor: r.actor, action: r.action, subject: r.subject, details: JSON.parse(r.details), prevHash: r.prev_hash, hash: r.hash }));
  }

  /** Walk the whole chain. Returns the first broken row, or ok with the count. */
  async verify(): Promise<{ ok: true; rows: number } | { ok: false; rows: number; brokenAt: number; problem: string }> {
    const rows = await this.store.all<AuditRow>('SELECT * FROM audit ORDER BY id');
    let prev = GENESIS;
    let expectedId = 1;
    for (const r of rows) {
      if (r.id !== expectedId) return { ok: false, rows: rows.length, brokenAt: expectedId, problem: `row ${expectedId} is missing` };
      if (r.prev_hash !== prev) return { ok: false, rows: rows.length, brokenAt: r.id, problem: `row ${r.id} does not follow row ${r.id - 1}` };
      if (rowHash(r) !== r.hash) return { ok: false, rows: rows.length, brokenAt: r.id, problem: `row ${r.id} was altered` };
      prev = r.hash;
      expectedId++;
    }
    const head = await this.store.get<{ value: string }>("SELECT value FROM meta WHERE key = 'audit_head'");
    const last = rows[rows.length - 1];
    if ((head?.value ?? '') !== (last ? `${last.id}:${last.hash}` : ''))
      return { ok: false, rows: rows.length, brokenAt: (last?.id ?? 0) + 1, problem: 'rows at the end were deleted' };
    return { ok: true, rows: rows.length };
  }
}
