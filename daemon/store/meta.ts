import sqlite3 from 'sqlite3';
import type { Tx } from './store.js';

/**
 * The `meta` table: a few named values of the appliance (system id, host
 * fingerprint, trusted time, revocation list, audit head, warnings sent).
 * Its one owner; every module keeps its value through these functions.
 */

export async function readMeta(q: Pick<Tx, 'get'>, key: string): Promise<string | null> {
  return (await q.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key]))?.value ?? null;
}

export async function writeMeta(tx: Pick<Tx, 'run'>, key: string, value: string): Promise<void> {
  await tx.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', [key, value]);
}

/** Write `value` only when it sorts after the one kept (a time that never goes back). */
export async function raiseMeta(tx: Pick<Tx, 'run'>, key: string, value: string): Promise<void> {
  await tx.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE excluded.value > meta.value', [key, value]);
}

/** Open another database file read-only for one statement (a backup to restore, the database before start). */
export function sqliteRead<T>(file: string, sql: string, params: unknown[] = []): Promise<T[]> {
  return new Promise((res, rej) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READONLY, (err) => {
      if (err) return rej(err);
      db.all(sql, params, (e, rows) => db.close(() => (e ? rej(e) : res(rows as T[]))));
    });
  });
}

/** The values of `keys` kept in another database file (missing keys are absent from the map). */
export async function metaOfFile(file: string, keys: string[]): Promise<Map<string, string>> {
  const rows = await sqliteRead<{ key: string; value: string }>(file, 'SELECT key, value FROM meta WHERE key IN (SELECT value FROM json_each(?))', [JSON.stringify(keys)]);
  return new Map(rows.map((r) => [r.key, r.value]));
}
