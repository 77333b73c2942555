import sqlite3 from 'sqlite3';
import { join } from 'node:path';
import type { TestDaemon } from './daemon.js';

/** A small seeded PRNG (mulberry32): a failing fuzz or crash run can be replayed with its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Random = ReturnType<typeof mulberry32>;
export const pick = <T>(rnd: Random, items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
export const int = (rnd: Random, lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

/**
 * The seed of this run, as the test's title prints it. REL_SEED=<that number>
 * replays it exactly; by default it changes per day (mixed with the test's
 * name, so the files explore different orders) so CI explores but stays reproducible.
 */
export function seedOf(name: string): number {
  if (process.env.REL_SEED) return Number(process.env.REL_SEED) >>> 0;
  let h = Math.floor(Date.now() / 86400_000);
  for (const ch of name) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  return h;
}

/** Query the daemon's database file directly (read-only), as an admin with sqlite3 would after a crash. */
export function queryDb<T = Record<string, unknown>>(dataDir: string, sql: string, params: unknown[] = []): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(join(dataDir, 'pbxd.db'), sqlite3.OPEN_READONLY, (err) => {
      if (err) return reject(err);
      db.all(sql, params, (e, rows) => {
        db.close();
        e ? reject(e) : resolve(rows as T[]);
      });
    });
  });
}

export async function integrityCheck(dataDir: string): Promise<string> {
  const rows = await queryDb<{ integrity_check: string }>(dataDir, 'PRAGMA integrity_check');
  return rows.map((r) => r.integrity_check).join('; ');
}

/** Used/total per code as the status page shows them. */
export async function usage(d: TestDaemon): Promise<Record<string, { used: number; total: number }>> {
  const s = await d.status();
  return Object.fromEntries(s.codes.map((c: { code: string; used: number; total: number }) => [c.code, { used: c.used, total: c.total }]));
}

/** Held (not suspended) per-user licenses and active seats, counted in the database itself. */
export async function countsInDb(dataDir: string): Promise<{ activeUsers: number; held: Record<string, number> }> {
  const [{ n }] = await queryDb<{ n: number }>(dataDir, "SELECT COUNT(*) AS n FROM users WHERE status = 'active' AND builtin = 0");
  const held = Object.fromEntries(
    (await queryDb<{ code: string; n: number }>(dataDir, 'SELECT code, COUNT(*) AS n FROM user_licenses WHERE suspended = 0 GROUP BY code')).map((r) => [r.code, r.n]),
  );
  return { activeUsers: n, held };
}

/** POST with the admin token, many at once; resolves with the status (or 'gone' when the daemon died). */
export async function post(d: TestDaemon, token: string, path: string, body: unknown): Promise<number | 'gone'> {
  try {
    const r = await fetch(d.apiUrl + path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await r.arrayBuffer();
    return r.status;
  } catch {
    return 'gone';
  }
}
