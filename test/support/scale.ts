import sqlite3 from 'sqlite3';
import { join } from 'node:path';
import { rowHash } from '../../daemon/core/audit.js';
import type { TestDaemon } from './daemon.js';

/**
 * A large appliance written straight into SQLite (seconds instead of hours of
 * API calls), for the 100k test and the growth bench. The daemon must be
 * stopped; it started once on this folder, so the schema is there.
 *
 * n users user000001.. (first name First000001, last name Last000001,
 * extension 7000001..), each holding clientbundle and vap; n Cisco phones
 * 0050 0000 0001.., one per user, every 81st a Unify phone instead; even
 * phones hold their support license, odd ones wait for one; n audit entries
 * (a valid hash chain continuing the daemon's own).
 */
export const SCALE = {
  userName: (i: number) => `user${String(i).padStart(6, '0')}`,
  mac: (i: number) => `0050${i.toString(16).padStart(8, '0')}`,
  isUnify: (i: number) => i % 81 === 0,
  /** Devices of n that wait for a support license (the odd ones). */
  waiting: (n: number) => Math.ceil(n / 2),
  unify: (n: number) => Math.floor(n / 81),
};

/** Licenses beyond what is seeded: room for the growth bench's 10,000-phone storm and its paced changes. */
export const SCALE_ROOM = 20_000;

/** The license a seeded appliance runs under. */
export const scaleLicense = (n: number) => ({
  quantities: { users: n + SCALE_ROOM, 'devices.cisco': n + SCALE_ROOM, 'devices.unify': n + SCALE_ROOM },
  perUser: { clientbundle: n + SCALE_ROOM, vap: n + SCALE_ROOM, voicemail: n + SCALE_ROOM },
  expiresAt: null,
});

function open(file: string): Promise<sqlite3.Database> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READWRITE, (e) => (e ? reject(e) : resolve(db)));
  });
}
const exec = (db: sqlite3.Database, sql: string) => new Promise<void>((res, rej) => db.exec(sql, (e) => (e ? rej(e) : res())));
const run = (db: sqlite3.Database, sql: string, params: unknown[]) => new Promise<void>((res, rej) => db.run(sql, params, (e) => (e ? rej(e) : res())));
const get = <T>(db: sqlite3.Database, sql: string) => new Promise<T>((res, rej) => db.get(sql, (e, r) => (e ? rej(e) : res(r as T))));

export async function seedScale(dataDir: string, n: number): Promise<void> {
  const db = await open(join(dataDir, 'pbxd.db'));
  try {
    await exec(db, 'PRAGMA foreign_keys=ON; PRAGMA synchronous=OFF; BEGIN');
    const seq = `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${n})`;
    const at = (col: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', '2026-01-01', '+' || ${col} || ' seconds')`;
    await exec(db, `${seq} INSERT INTO users (user_name, first_name, last_name, extension, status, source, created_at, updated_at)
      SELECT printf('user%06d', i), printf('First%06d', i), printf('Last%06d', i), printf('7%06d', i), 'active', 'admin', ${at('i')}, ${at('i')} FROM seq`);
    await exec(db, `INSERT INTO user_licenses (user_id, code, assigned_at) SELECT id, 'clientbundle', created_at FROM users WHERE builtin = 0;
                    INSERT INTO user_licenses (user_id, code, assigned_at) SELECT id, 'vap', created_at FROM users WHERE builtin = 0`);
    await exec(db, `${seq}, d AS (SELECT i, CASE WHEN i % 81 = 0 THEN 'unify' ELSE 'cisco' END AS vendor FROM seq)
      INSERT INTO devices (mac, vendor, model, source, created_at, last_seen, last_ip, user_name, line, display_name, sip_user, sip_password, license_code, licensed_at, waiting_since)
      SELECT printf('0050%08x', i), vendor, CASE vendor WHEN 'unify' THEN 'OpenScape Desk Phone CP600' ELSE 'CP-8845' END, 'admin', ${at('i')}, ${at('i + 86400')},
             printf('10.%d.%d.%d', i / 65536, (i / 256) % 256, i % 256), printf('user%06d', i), 1, printf('First%06d Last%06d', i, i), printf('7%06d', i),
             printf('seeded-secret-%d', i), CASE WHEN i % 2 = 0 THEN 'devices.' || vendor END, CASE WHEN i % 2 = 0 THEN ${at('i')} END,
             CASE WHEN i % 2 = 1 THEN ${at('i')} END
      FROM d`);
    // Audit entries continue the daemon's chain, so `audit verify` still holds.
    let head = (await get<{ id: number; hash: string } | undefined>(db, 'SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1')) ?? { id: 0, hash: '0'.repeat(64) };
    for (let from = 1; from <= n; from += 5000) {
      const rows: unknown[][] = [];
      for (let i = from; i < Math.min(from + 5000, n + 1); i++) {
        const row = { id: head.id + 1, at: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(), actor: 'directory', action: 'user.register', subject: SCALE.userName(i), details: JSON.stringify({ tenant: null, seeded: `batch ${Math.ceil(i / 5000)}` }), prev_hash: head.hash };
        head = { id: row.id, hash: rowHash(row) };
        rows.push([row.id, row.at, row.actor, row.action, row.subject, row.details, row.prev_hash, head.hash]);
      }
      await run(db, `INSERT INTO audit (id, at, actor, action, subject, details, prev_hash, hash)
        SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7 FROM json_each(?)`, [JSON.stringify(rows)]);
    }
    await run(db, "INSERT INTO meta (key, value) VALUES ('audit_head', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [`${head.id}:${head.hash}`]);
    await exec(db, 'COMMIT; PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    await new Promise((r) => db.close(r));
  }
}

/** Start a daemon, install a license for n, stop it, seed n of everything (and `more`), start it again. */
export async function scaledDaemon(start: (dataDir?: string) => Promise<TestDaemon>, n: number, more?: (dataDir: string) => Promise<void>): Promise<TestDaemon> {
  const first = await start();
  await first.installLicense(scaleLicense(n));
  await first.stop();
  await seedScale(first.dataDir, n);
  await more?.(first.dataDir);
  return start(first.dataDir);
}
