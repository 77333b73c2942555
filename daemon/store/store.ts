import sqlite3 from 'sqlite3';
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate, SCHEMA_VERSION } from './migrations.js';
import { connect, type Connection, type Param, type RunResult } from './connection.js';
import type { Logger } from '../kernel/log.js';
import { refuse } from '../kernel/refusal.js';

export type { Param } from './connection.js';
type Row = Record<string, unknown>;

/** What a write may do: statements inside the one open transaction, and work to run after it commits. */
export interface Tx {
  run(sql: string, params?: Param[]): Promise<RunResult>;
  all<T = Row>(sql: string, params?: Param[]): Promise<T[]>;
  get<T = Row>(sql: string, params?: Param[]): Promise<T | undefined>;
  /** Runs once the transaction is durable (events, notifications); never inside it. */
  afterCommit(fn: () => void): void;
  /** Runs if this write does not land (its own refusal, or its group's failed commit): forget what it cached. */
  onRollback(fn: () => void): void;
  /**
   * Runs once per group, inside the transaction, just before COMMIT: work that
   * many writes of a group share (keyed; the first registration wins). It must
   * be right whichever writes of the group were rolled back.
   */
  beforeCommit(key: string, fn: (tx: Tx) => Promise<unknown>): void;
}

interface PendingWrite {
  work: (tx: Tx) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

type Outcome = { ok: true; value: unknown; after: Array<() => void>; undo: Array<() => void> } | { ok: false; error: unknown };

/** Reads need no savepoint: a write that has only read so far has nothing to roll back. */
const READ_ONLY = /^\s*SELECT\b/i;
/** Errors after which SQLite may have rolled the whole transaction back on its own. */
const TRANSACTION_ENDING = /SQLITE_(FULL|IOERR|BUSY|NOMEM|INTERRUPT|CORRUPT)/;

/** Most writes that are committed together (group commit); each keeps its own savepoint. */
const MAX_GROUP = 256;

/**
 * The one owner of the SQLite database.
 *
 * Writes go through a single queue on one connection: each is a function that
 * checks and writes inside `BEGIN IMMEDIATE`, so a limit check and the write it
 * guards can never interleave with another write. Writes waiting at the same
 * time are committed together (group commit), each inside its own savepoint, so
 * one refused write rolls back alone and many small writes share one fsync.
 * Reads use a second connection and see only committed data (WAL).
 */
export class Store {
  private queue: PendingWrite[] = [];
  private draining = false;
  private closed = false;
  private idle: Promise<void> = Promise.resolve();

  /** The file opened (device and inode): a deleted or replaced file is noticed, not written into the void. */
  private readonly identity: { dev: number; ino: number };

  private constructor(
    readonly file: string,
    private readonly writer: Connection,
    private readonly reader: Connection,
    private readonly log: Logger,
    /** The schema version the file had before this start migrated it (0: a new file). */
    readonly versionAtOpen: number,
  ) {
    const st = statSync(file);
    this.identity = { dev: st.dev, ino: st.ino };
  }

  /** Whether the file at the database's path is still the one this store has open; a sentence saying what happened, or null. */
  fileProblem(): string | null {
    try {
      const st = statSync(this.file);
      return st.dev === this.identity.dev && st.ino === this.identity.ino ? null : `the database file ${this.file} was replaced while pbxd had it open`;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ENOENT' ? `the database file ${this.file} was deleted while pbxd had it open` : `the database file ${this.file} cannot be checked (${(e as NodeJS.ErrnoException).code})`;
    }
  }

  /** Whether the database file and its folder (journal, WAL) can be written. */
  writableProblem(): string | null {
    for (const path of [this.file, dirname(this.file)]) {
      try {
        accessSync(path, fsConstants.W_OK);
      } catch (e) {
        return `${path} is not writable (${(e as NodeJS.ErrnoException).code})`;
      }
    }
    return null;
  }

  /** Whether the schema answers: the migrated version, and a read of the meta table. */
  async schemaProblem(): Promise<string | null> {
    const latest = SCHEMA_VERSION;
    const { user_version: v } = (await this.reader.get<{ user_version: number }>('PRAGMA user_version'))!;
    if (v !== latest) return `the database schema is version ${v}, this pbxd needs ${latest}`;
    await this.reader.get("SELECT value FROM meta WHERE key = 'system_id'");
    return null;
  }

  static async open(file: string, log: Logger): Promise<Store> {
    const existed = existsSync(file);
    const w = await connect(file, sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE);
    // WAL: readers never block the writer. synchronous=FULL: a commit survives a
    // power cut, which is the moment phones hammer us. busy_timeout covers the
    // backup job and pbxctl tools that open the file briefly.
    await w.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;');
    const versionAtOpen = await migrate(w, file, existed, log);
    const r = await connect(file, sqlite3.OPEN_READONLY);
    await r.exec('PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;');
    return new Store(file, w, r, log, versionAtOpen);
  }

  all<T = Row>(sql: string, params: Param[] = []): Promise<T[]> {
    return this.reader.all<T>(sql, params);
  }

  get<T = Row>(sql: string, params: Param[] = []): Promise<T | undefined> {
    return this.reader.get<T>(sql, params);
  }

  /**
   * Run `work` as one atomic, serialized write. It sees every write committed
   * or queued before it; it is either applied whole or not at all. Throwing
   * (e.g. a Refusal) rolls back this write only.
   */
  write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    // Whether the file is still ours is asked once per group commit (commitGroup), not per write.
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      if (!this.draining) this.idle = this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, MAX_GROUP);
        await this.commitGroup(group);
      }
    } finally {
      this.draining = false;
    }
  }

  private async commitGroup(group: PendingWrite[]): Promise<void> {
    const w = this.writer;
    const outcomes: Outcome[] = [];
    const beforeCommit = new Map<string, (tx: Tx) => Promise<unknown>>();
    // Newest first: a write that replaced what an earlier one of the group set restores that, then the earlier one its own.
    // Checked per group: writes queued before the file went away must not land in it either.
    const lost = this.fileProblem();
    if (lost) {
      for (const p of group) p.reject(refuse('STORE_UNAVAILABLE', { reason: lost }));
      return;
    }
    const undoLanded = () => [...outcomes].reverse().forEach((o) => o.ok && [...o.undo].reverse().forEach((fn) => fn()));
    try {
      await w.exec('BEGIN IMMEDIATE');
    } catch (e) {
      for (const p of group) p.reject(this.storeError(e));
      return;
    }
    for (let i = 0; i < group.length; i++) {
      const p = group[i]!;
      const after: Array<() => void> = [];
      const undo: Array<() => void> = [];
      // In a group of several, each write gets a savepoint before its first change, so
      // a refusal rolls back that write alone. Savepoints are not released one by one:
      // they stack until COMMIT, and ROLLBACK TO names the newest, this write's (one
      // round trip saved). A write alone in its group needs none: it rolls back whole.
      let savepoint = null as Promise<unknown> | null; // (set inside the closures below)
      const alone = group.length === 1;
      const changing = (sql: string) => (alone || savepoint || READ_ONLY.test(sql) ? undefined : (savepoint = w.run('SAVEPOINT one_write')));
      const tx: Tx = {
        run: async (sql, params) => (await changing(sql), w.run(sql, params)),
        all: async (sql, params) => (await changing(sql), w.all(sql, params)),
        get: async (sql, params) => (await changing(sql), w.get(sql, params)),
        afterCommit: (fn) => void after.push(fn),
        onRollback: (fn) => void undo.push(fn),
        beforeCommit: (key, fn) => void (beforeCommit.has(key) || beforeCommit.set(key, fn)),
      };
      try {
        outcomes.push({ ok: true, value: await p.work(tx), after, undo });
      } catch (error) {
        [...undo].reverse().forEach((fn) => fn());
        if (alone) {
          await w.exec('ROLLBACK').catch(() => undefined);
          p.reject(this.storeError(error));
          return;
        }
        // Without a savepoint of its own (or if opening it failed) ROLLBACK TO would undo the write before.
        const rolledBack = savepoint
          ? await savepoint.then(() => w.run('ROLLBACK TO one_write')).then(() => true, () => false)
          : !TRANSACTION_ENDING.test(String((error as { code?: string }).code));
        if (!rolledBack) {
          // SQLite rolled the whole transaction back (it may on SQLITE_FULL or an I/O
          // error): the writes before this one are gone with it, and the ones after must
          // not run outside a transaction (each statement would commit on its own). This
          // write fails; the others go back to the front of the queue to run again whole.
          await w.exec('ROLLBACK').catch(() => undefined);
          undoLanded();
          this.log.warn('a failed write ended its group transaction; the other writes of the group run again', { writes: group.length - 1, error: String(error) });
          this.queue.unshift(...group.slice(0, i), ...group.slice(i + 1));
          p.reject(this.storeError(error));
          return;
        }
        outcomes.push({ ok: false, error: this.storeError(error) });
      }
    }
    try {
      const tx: Tx = { run: w.run, all: w.all, get: w.get, afterCommit: () => undefined, onRollback: () => undefined, beforeCommit: () => undefined };
      for (const fn of beforeCommit.values()) await fn(tx);
      await w.exec('COMMIT');
    } catch (e) {
      await w.exec('ROLLBACK').catch(() => undefined);
      undoLanded();
      const err = this.storeError(e);
      this.log.error('commit failed; the writes of this group were not applied', { writes: group.length, error: String(e) });
      for (const p of group) p.reject(err);
      return;
    }
    group.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.ok) {
        for (const fn of o.after) {
          try {
            fn();
          } catch (e) {
            this.log.error('after-commit hook failed', { error: String(e) });
          }
        }
        p.resolve(o.value);
      } else p.reject(o.error);
    });
  }

  /** A failed write of the database itself (disk full, read-only) becomes a clear refusal. */
  private storeError(e: unknown): unknown {
    const code = (e as { code?: string }).code ?? '';
    if (/SQLITE_(FULL|READONLY|IOERR|CANTOPEN|BUSY|LOCKED)/.test(code)) return refuse('STORE_UNAVAILABLE', { reason: code });
    return e;
  }

  async integrityCheck(): Promise<string> {
    const rows = await this.writer.all<{ integrity_check: string }>('PRAGMA integrity_check');
    return rows.map((r) => r.integrity_check).join('; ');
  }

  /** Copy the live database into `target` (consistent online backup). */
  async backupTo(target: string): Promise<void> {
    // VACUUM INTO cannot run inside a transaction; on the read connection it
    // copies one consistent snapshot without holding up writers.
    await this.reader.run('VACUUM INTO ?', [target]);
  }

  /** Wait for queued writes, then close both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.idle;
    await this.reader.close();
    await this.writer.exec('PRAGMA wal_checkpoint(TRUNCATE)').catch(() => undefined);
    await this.writer.close();
  }
}
