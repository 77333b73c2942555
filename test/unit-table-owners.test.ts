import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Each table has one owning module: only it writes the table, and only it
 * (or a join declared below) reads it. Other modules ask the owner through a
 * method. A new table fails this test until it is given an owner.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The migration steps and the store itself (schema, host binding at open) are exempt. */
const MIGRATIONS = 'daemon/store/migrations/';
const exempt = (file: string) => file.startsWith(MIGRATIONS) || file === 'daemon/store/store.ts';

/**
 * The owning module of each table: one file, or the files of one module that a
 * facade composes (the Devices class and the parts under daemon/core/devices/
 * that run its SQL on its behalf).
 */
const DEVICES_MODULE = ['daemon/core/devices.ts', 'daemon/core/devices/claims.ts', 'daemon/core/devices/last-seen.ts', 'daemon/core/devices/user-lines.ts', 'daemon/core/devices/views.ts'];

const OWNERS: Record<string, string | string[]> = {
  admins: 'daemon/core/admins.ts',
  admin_tokens: 'daemon/core/admins.ts',
  audit: 'daemon/core/audit.ts',
  auto_attendants: 'daemon/core/auto-attendants.ts',
  auto_attendant_numbers: 'daemon/core/auto-attendants.ts',
  client_tokens: 'daemon/core/client-credentials.ts',
  user_credentials: 'daemon/core/client-credentials.ts',
  devices: DEVICES_MODULE,
  devices_licensed: ['daemon/core/devices/claims.ts', 'daemon/core/devices/views.ts'],
  sip_trunks: 'daemon/core/sip-trunks.ts',
  users: 'daemon/core/users/directory.ts',
  tenants: 'daemon/core/users/seat-pools.ts',
  seats_used: 'daemon/core/users/seat-pools.ts',
  user_licenses: 'daemon/core/users/user-licenses.ts',
  user_licenses_used: 'daemon/core/users/user-licenses.ts',
  licenses: 'daemon/licensing/licensing.ts',
  usage_peaks: 'daemon/licensing/usage-report.ts',
  usage_daily_peaks: 'daemon/licensing/usage-report.ts',
  meta: 'daemon/store/meta.ts',
  device_locks: 'provisioning/security/state.ts',
  enrolment_window: 'provisioning/security/state.ts',
  provisioning_keys: 'provisioning/security/state.ts',
};

/** Reads of another module's table kept inside one statement of the owner of the other table, each for a reason. Never writes. */
const JOINS: Array<{ file: string; table: string; why: string }> = [
  { file: 'daemon/core/users/directory.ts', table: 'tenants', why: 'a user row carries its tenant name; lists filter by tenant' },
  { file: 'daemon/core/users/directory.ts', table: 'devices', why: 'the devices↔users line refresh stays one statement at 100,000 devices' },
  { file: 'daemon/core/users/user-licenses.ts', table: 'users', why: 'holders, suspensions and entitlements name their users in one statement' },
  { file: 'provisioning/security/state.ts', table: 'devices', why: 'a batch of locks skips devices deleted meanwhile, in one statement' },
];

const ownerFiles = (table: string): string[] => [OWNERS[table] ?? []].flat();
const owns = (file: string, table: string) => ownerFiles(table).includes(file);

const SQL = /\b(DELETE\s+FROM|FROM|JOIN|INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE)\s+([a-z_]+)\b/g;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every use of a known table in SQL: file, table, and whether it writes. */
function uses(): Array<{ file: string; table: string; write: boolean; line: number }> {
  const out: Array<{ file: string; table: string; write: boolean; line: number }> = [];
  for (const file of [...sources('daemon'), ...sources('provisioning')].map((f) => relative(ROOT, join(ROOT, f)))) {
    if (exempt(file)) continue;
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(SQL)) {
      const table = m[2]!;
      if (!(table in OWNERS)) continue;
      out.push({ file, table, write: !/^(FROM|JOIN)$/.test(m[1]!), line: text.slice(0, m.index).split('\n').length });
    }
  }
  return out;
}

describe('one owner per table (no daemon)', () => {
  const found = uses();

  it('gives every table of the schema an owner', () => {
    const schema = sources(MIGRATIONS).map((f) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
    const tables = new Set([...schema.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?([a-z_0-9]+)/g)].map((m) => m[1]!));
    const renamed = [...schema.matchAll(/ALTER TABLE ([a-z_0-9]+) RENAME TO ([a-z_0-9]+)/g)].map((m) => ({ from: m[1]!, to: m[2]! }));
    for (const r of renamed) (tables.delete(r.from), tables.add(r.to));
    for (const m of schema.matchAll(/DROP TABLE (?:IF EXISTS )?([a-z_0-9]+)/g)) if (!renamed.some((r) => r.to === m[1])) tables.delete(m[1]!);
    expect(tables.size, 'tables found in the migrations').to.be.greaterThan(10);
    expect([...tables].filter((t) => !(t in OWNERS)), 'tables without an owner').to.deep.equal([]);
  });

  it('finds each owner using its tables (the map is not stale)', () => {
    for (const table of Object.keys(OWNERS))
      for (const file of ownerFiles(table)) expect(found.some((u) => u.file === file && u.table === table), `${file} uses ${table}`).to.equal(true);
    for (const j of JOINS) expect(found.some((u) => u.file === j.file && u.table === j.table), `${j.file} reads ${j.table}`).to.equal(true);
  });

  it('writes each table only from its owner', () => {
    const strays = found.filter((u) => u.write && !owns(u.file, u.table)).map((u) => `${u.file}:${u.line} writes ${u.table} (owner: ${ownerFiles(u.table).join(', ')})`);
    expect(strays).to.deep.equal([]);
  });

  it('reads each table only in its owner or a declared join', () => {
    const strays = found
      .filter((u) => !u.write && !owns(u.file, u.table) && !JOINS.some((j) => j.file === u.file && j.table === u.table))
      .map((u) => `${u.file}:${u.line} reads ${u.table} (owner: ${ownerFiles(u.table).join(', ')}; ask it through a method)`);
    expect(strays).to.deep.equal([]);
  });
});
