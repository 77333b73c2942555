import sqlite3 from 'sqlite3';
import { TestDaemon } from '../test/support/daemon.js';

export { TestDaemon };

/** Run `fn` for `items` with at most `concurrency` in flight; resolves when all are done. */
export async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function sqliteOpen(file: string): Promise<sqlite3.Database> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, (e) => (e ? reject(e) : resolve(db)));
  });
}

export function exec(db: sqlite3.Database, sql: string, params: unknown[] = []): Promise<unknown> {
  return new Promise((resolve, reject) => db.all(sql, params, (e, rows) => (e ? reject(e) : resolve(rows))));
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
