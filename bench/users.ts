/**
 * Registrations and per-user license assignment with the seat check on,
 * against the real daemon, next to a bare SQLite loop of the same work
 * (BEGIN IMMEDIATE; count; INSERT; COMMIT) with the same pragmas.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Bench, BenchRow } from './report.js';
import { TestDaemon, exec, pool, round, sqliteOpen } from './support.js';

const CLIENTS = 1000;
const PER_CLIENT = 5;
const BATCH_USERS = 10_000;

async function bareLoop(n: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'pbxd-bare-'));
  const db = await sqliteOpen(join(dir, 'bare.db'));
  await exec(db, 'PRAGMA journal_mode=WAL');
  await exec(db, 'PRAGMA synchronous=FULL');
  await exec(db, 'CREATE TABLE users (id INTEGER PRIMARY KEY, user_name TEXT UNIQUE, status TEXT)');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await exec(db, 'BEGIN IMMEDIATE');
    await exec(db, "SELECT COUNT(*) FROM users WHERE status = 'active'");
    await exec(db, "INSERT INTO users (user_name, status) VALUES (?, 'active')", [`u${i}`]);
    await exec(db, 'COMMIT');
  }
  const rate = n / ((performance.now() - t0) / 1000);
  await new Promise((r) => db.close(r));
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

export const bench: Bench = async () => {
  const d = await TestDaemon.start({ config: { log: { level: 'warn' } } });
  const rows: BenchRow[] = [];
  try {
    const seats = CLIENTS * PER_CLIENT - 100; // fewer seats than attempts: the check must refuse the rest
    await d.installLicense({ quantities: { users: seats, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: BATCH_USERS } });
    const token = await d.adminToken();
    const clients = Array.from({ length: CLIENTS }, (_, c) => c);
    let created = 0;
    const t0 = performance.now();
    await pool(clients, CLIENTS, async (c) => {
      for (let i = 0; i < PER_CLIENT; i++) {
        const r = await fetch(`${d.apiUrl}/api/v1/users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ userName: `bench${c}x${i}` }),
        });
        if (r.status === 201) created++;
        await r.arrayBuffer();
      }
    });
    const seconds = (performance.now() - t0) / 1000;
    const listed = (await d.request('GET', '/api/v1/users?status=active&limit=1')).json.total - 1; // minus supervisor
    const rate = (CLIENTS * PER_CLIENT) / seconds;
    const bare = await bareLoop(3000);
    rows.push({
      name: `registrations/s (${CLIENTS} concurrent clients, seat check on)`,
      value: round(rate),
      unit: 'req/s',
      reference: { name: 'bare SQLite BEGIN IMMEDIATE;count;INSERT;COMMIT loop', value: round(bare) },
      ratio: round(rate / bare, 2),
      target: '≥ 0.5×',
      met: rate / bare >= 0.5,
      notes: `${created} created of ${CLIENTS * PER_CLIENT} attempts for ${seats} seats; ${listed} in the database; exact: ${created === seats && listed === seats}`,
    });

    // Batch assignment: 10,000 users get clientbundle in one all-or-nothing batch.
    await d.installLicense({ quantities: { users: seats + BATCH_USERS, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: BATCH_USERS } });
    const users = Array.from({ length: BATCH_USERS }, (_, i) => ({ userName: `batch${i}` }));
    const imp = await d.request('POST', '/api/v1/users/import', { body: { users } });
    if (imp.json.created.length !== BATCH_USERS) throw new Error(`import created ${imp.json.created?.length}`);
    const t1 = performance.now();
    const r = await d.request('POST', '/api/v1/user-licenses', { body: { changes: users.map((u) => ({ userName: u.userName, code: 'clientbundle', assigned: true })) } });
    const batchMs = performance.now() - t1;
    if (r.status !== 200 || r.json.applied !== BATCH_USERS) throw new Error(`batch failed: ${r.text.slice(0, 200)}`);
    rows.push({ name: `batch assignment of ${BATCH_USERS} users (quota check on)`, value: round(batchMs), unit: 'ms', reference: { name: 'bare loop, same row count', value: round((BATCH_USERS / bare) * 1000) }, ratio: round(batchMs / ((BATCH_USERS / bare) * 1000), 2), notes: 'one transaction; the reference commits each row' });
  } finally {
    await d.dispose();
  }
  return rows;
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.table(await bench());
