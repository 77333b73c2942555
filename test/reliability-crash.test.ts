import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestDaemon, sleep } from './support/daemon.js';
import { countInDb, countsInDb, int, integrityCheck, mulberry32, post, seedOf } from './support/reliability.js';

const BASE_USERS = 3000;
const IMPORT_USERS = 2000;
const SEATS = 6000;
const ROUNDS = 5;
const CODES = Array.from({ length: ROUNDS }, (_, r) => `c${r}`);

describe('reliability: SIGKILL during batch writes @slow', function () {
  this.timeout(60_000);
  const seed = seedOf('crash');
  let dataDir = '';
  let d: TestDaemon | null = null;

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'pbxd-crash-'));
  });
  after(async () => {
    await d?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`leaves each batch assignment, bulk import and activation whole or absent, within every limit (seed ${seed})`, async () => {
    const rnd = mulberry32(seed);
    const license = (id: string) => ({ licenseId: id, quantities: { users: SEATS, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: Object.fromEntries(CODES.map((c) => [c, BASE_USERS])) });
    d = await TestDaemon.start({ dataDir, config: { log: { level: 'warn' } } });
    await d.installLicense(license('LIC-BASE'));
    const base = Array.from({ length: BASE_USERS }, (_, i) => ({ userName: `base${i}`, firstName: 'Base', lastName: `User ${i}` }));
    expect((await d.request('POST', '/api/v1/users/import', { body: { users: base } })).json.created).to.have.length(BASE_USERS);

    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const token = await d.adminToken();
      const code = CODES[round]!;
      const licenseText = d.license(license(`LIC-R${round}`));
      const inflight = [
        post(d, token, '/api/v1/user-licenses', { changes: base.map((u) => ({ userName: u.userName, code, assigned: true })) }),
        post(d, token, '/api/v1/users/import', { users: Array.from({ length: IMPORT_USERS }, (_, i) => ({ userName: `r${round}u${i}`, lastName: `Round ${round}` })) }),
        post(d, token, '/api/v1/license', { license: licenseText }),
      ];
      // Kill at a seeded moment between "nothing arrived yet" and "all committed".
      await sleep(int(rnd, 0, 500));
      await d.kill('SIGKILL');
      const statuses = await Promise.all(inflight);

      expect(await integrityCheck(dataDir), `round ${round}: integrity_check`).to.equal('ok');
      d = await TestDaemon.start({ dataDir, config: { log: { level: 'warn' } } });

      const assigned = await countInDb(dataDir, 'SELECT COUNT(*) AS n FROM user_licenses WHERE code = ?', [code]);
      const imported = await countInDb(dataDir, 'SELECT COUNT(*) AS n FROM users WHERE user_name LIKE ?', [`r${round}u%`]);
      const active = await countInDb(dataDir, "SELECT COUNT(*) AS n FROM licenses WHERE state = 'active'");
      expect([0, BASE_USERS], `round ${round}: batch assignment all or nothing`).to.include(assigned);
      expect([0, IMPORT_USERS], `round ${round}: import all or nothing`).to.include(imported);
      expect(active, `round ${round}: exactly one license in force`).to.equal(1);
      // A request answered 200 before the kill was committed and must have survived it.
      if (statuses[0] === 200) expect(assigned).to.equal(BASE_USERS);
      if (statuses[1] === 200) expect(imported).to.equal(IMPORT_USERS);

      const counts = await countsInDb(dataDir);
      expect(counts.activeUsers, 'active users within the seats').to.be.at.most(SEATS);
      for (const c of CODES) expect(counts.held[c] ?? 0, `${c} within its quota`).to.be.at.most(BASE_USERS);
      expect((await d.request('GET', '/api/v1/audit/verify')).json.ok, 'audit chain intact').to.equal(true);
      const status = await d.status();
      expect(status.mode).to.equal('licensed');
      expect(status.codes.find((c: { code: string }) => c.code === 'users').used).to.equal(counts.activeUsers);
      outcomes.push(`${assigned ? 'A' : 'a'}${imported ? 'I' : 'i'}`);
    }
    // Visible in the report when a run needs replaying: which batches survived each kill.
    console.log(`      crash outcomes (seed ${seed}): ${outcomes.join(' ')}`);
  });
});
