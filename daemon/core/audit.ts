import { createHash } from 'node:crypto';
import type { Store, Tx } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import type { EventBus } from '../kernel/events.js';
import { pageOf, startsWith, type PageAsk } from './paging.js';
import { readMeta, writeMeta } from '../store/meta.js';
import type { Text } from '../kernel/refusal.js';
import { auditText } from './audit-texts.js';
import { defineMessages, type Message } from '../kernel/messages.js';

/** What a broken chain shows (the problem verify() reports). */
const broken = defineMessages({
  'audit.broken.missing': { en: 'row {row} is missing', de: 'Eintrag {row} fehlt' },
  'audit.broken.order': { en: 'row {row} does not follow row {previous}', de: 'Eintrag {row} folgt nicht auf Eintrag {previous}' },
  'audit.broken.altered': { en: 'row {row} was altered', de: 'Eintrag {row} wurde verändert' },
  'audit.broken.truncated': { en: 'rows at the end were deleted', de: 'Einträge am Ende wurden gelöscht' },
});

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
  /** Action, subject and details in words, English and German (the row itself stores codes and values). */
  text: { action: Text; subject: Text; details: Text };
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

/** Rows per query when the chain is verified. */
const VERIFY_PAGE = 1000;

export function rowHash(r: Omit<AuditRow, 'hash'>): string {
  return createHash('sha256').update(JSON.stringify([r.id, r.at, r.actor, r.action, r.subject, r.details, r.prev_hash])).digest('hex');
}

interface AuditFilter {
  /** Prefix of the action ("device." finds every device action). */
  action?: string;
  actor?: string;
  /** Text anywhere in the subject, actor, action or details (under 3 characters: a prefix of subject, actor or action). */
  text?: string;
  /** Entries older than this id (a cursor that stays put while new entries arrive). */
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
    // Known in memory unless a later write of the group rolled back its own entry; then read from the table.
    tx.beforeCommit('audit.head', async (t) => {
      const head = this.head ? `${this.head.id}:${this.head.hash}` : (await t.get<{ value: string }>("SELECT id || ':' || hash AS value FROM audit WHERE id = (SELECT MAX(id) FROM audit)"))?.value;
      if (head) await writeMeta(t, 'audit_head', head);
    });
    tx.afterCommit(() => this.bus.emit('audit.appended', { id: row.id, action, actor }));
  }

  async list(f: AuditFilter & PageAsk = {}): Promise<AuditEntry[]> {
    return (await this.page(f)).entries;
  }

  /**
   * One page of entries, newest first; filters through indexes: action is a
   * prefix, actor exact, text a full-text search (migration 12).
   */
  async page(f: AuditFilter & PageAsk = {}): Promise<{ total: number; entries: AuditEntry[]; limit: number; offset: number }> {
    const page = pageOf(f, ['id'] as const, { sort: 'id', order: 'desc' });
    const where: string[] = [];
    const params: Array<string | number> = [];
    const add = (t: { sql: string; params: string[] }) => (where.push(t.sql), params.push(...t.params));
    if (f.action) add(startsWith('action', f.action));
    if (f.actor) add({ sql: 'actor = ?', params: [f.actor] });
    const text = f.text?.trim();
    if (text && [...text].length >= 3) add({ sql: 'id IN (SELECT rowid FROM audit_text WHERE audit_text MATCH ?)', params: [`"${text.replace(/"/g, '""')}"`] });
    else if (text) {
      // Too short for a trigram: a prefix of the subject, actor or action.
      const terms = [startsWith('subject', text), startsWith('actor', text), startsWith('action', text)];
      add({ sql: `(${terms.map((t) => t.sql).join(' OR ')})`, params: terms.flatMap((t) => t.params) });
    }
    const filtered = where.length > 0;
    if (f.beforeId) (where.push('id < ?'), params.push(f.beforeId));
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    // Ids run 1..n without gaps (verify() holds the table to that), so the unfiltered count is the newest id.
    const total = filtered
      ? (await this.store.get<{ n: number }>(`SELECT COUNT(*) AS n FROM audit ${w}`, params))!.n
      : Math.min((await this.store.get<{ n: number | null }>('SELECT MAX(id) AS n FROM audit'))!.n ?? 0, f.beforeId ? f.beforeId - 1 : Infinity);
    const rows = await this.store.all<AuditRow>(`SELECT * FROM audit ${w} ORDER BY id ${page.order === 'asc' ? 'ASC' : 'DESC'} LIMIT ? OFFSET ?`, [...params, page.limit, page.offset]);
    return {
      total,
      entries: rows.map((r) => {
        const e = { id: r.id, at: r.at, actor: r.actor, action: r.action, subject: r.subject, details: JSON.parse(r.details) as Record<string, unknown>, prevHash: r.prev_hash, hash: r.hash };
        return { ...e, text: auditText(e) };
      }),
      limit: page.limit,
      offset: page.offset,
    };
  }

  /**
   * Walk the whole chain, a page at a time (memory stays flat at any length).
   * Returns the first broken row, or ok with the count. Rows committed while it
   * walks are walked too: a change writes its rows and the head in one commit,
   * so a head beyond the last row read means more rows to read, or rows deleted.
   */
  async verify(): Promise<{ ok: true; rows: number } | { ok: false; rows: number; brokenAt: number; problem: string; code: string; values: Message['values']; text: Message['text'] }> {
    let prev = GENESIS;
    let last: AuditRow | undefined;
    // `problem` is the English text (scripts); code, values and text say it in either language.
    const brokenAt = (at: number, m: Message) => ({ ok: false as const, rows: last?.id ?? 0, brokenAt: at, problem: m.text.en, ...m });
    /** Read on from the last row; the number of rows read, or what is broken. */
    const walk = async (): Promise<number | ReturnType<typeof brokenAt>> => {
      let read = 0;
      for (;;) {
        const rows = await this.store.all<AuditRow>('SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT ?', [last?.id ?? 0, VERIFY_PAGE]);
        for (const r of rows) {
          const expected = (last?.id ?? 0) + 1;
          if (r.id !== expected) return brokenAt(expected, broken('audit.broken.missing', { row: expected }));
          if (r.prev_hash !== prev) return brokenAt(r.id, broken('audit.broken.order', { row: r.id, previous: r.id - 1 }));
          if (rowHash(r) !== r.hash) return brokenAt(r.id, broken('audit.broken.altered', { row: r.id }));
          prev = r.hash;
          last = r;
        }
        read += rows.length;
        if (rows.length < VERIFY_PAGE) return read;
      }
    };
    for (let more = await walk(); ; more = await walk()) {
      if (typeof more !== 'number') return more;
      const head = (await readMeta(this.store, 'audit_head')) ?? '';
      if (head === (last ? `${last.id}:${last.hash}` : '')) return { ok: true, rows: last?.id ?? 0 };
      // Committed while we walked: read on. Nothing more to read: the rows the head names are gone.
      if (more === 0 || Number(head.split(':')[0]) <= (last?.id ?? 0)) return brokenAt((last?.id ?? 0) + 1, broken('audit.broken.truncated'));
    }
  }
}
