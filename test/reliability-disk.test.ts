import { expect } from 'chai';
import { TestDaemon } from './support/daemon.js';
import { FullDisk, immutableBindsOpenFiles, immutableCapableFolder, setReadOnly } from './support/disk.js';
import { countsInDb, integrityCheck, post } from './support/reliability.js';

const usersOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ userName: `${prefix}${i}`, firstName: 'Disk', lastName: `${prefix} ${i}`.padEnd(60, '.') }));

/** The refusal an admin sees when the database cannot be written. */
function expectStoreUnavailable(r: { status: number; json: any }, what: string) {
  expect(r.status, `${what}: ${JSON.stringify(r.json)?.slice(0, 300)}`).to.equal(503);
  expect(r.json.error.code, what).to.equal('STORE_UNAVAILABLE');
  expect(r.json.error.message, what).to.be.a('string').and.not.empty;
}

describe('reliability: full disk and read-only data folder @slow', function () {
  this.timeout(60_000);

  it('refuses writes on a full disk with STORE_UNAVAILABLE, keeps serving reads, and writes again once space is back', async () => {
    const disk = FullDisk.create(48);
    let d: TestDaemon | null = null;
    try {
      d = await TestDaemon.start({ dataDir: disk.dataDir, config: { log: { level: 'warn' } } });
      await d.installLicense({ licenseId: 'LIC-DISK', quantities: { users: 60_000, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: 20_000 } });
      expect((await d.request('POST', '/api/v1/users/import', { body: { users: usersOf('pre', 300) } })).status).to.equal(200);
      const before = await countsInDb(d.dataDir);
      const listBefore = (await d.request('GET', '/api/v1/users?limit=1')).json.total;

      disk.fill(d.pid);
      // A bulk import too big for the cache fails in the middle of its work, when SQLite spills
      // pages; small writes queued with it share its group transaction and must not be lost
      // or applied by halves when SQLite rolls that transaction back.
      const big = usersOf('full', 40_000);
      const token = await d.adminToken();
      const [imported, batch, license, ...small] = await Promise.all([
        d.request('POST', '/api/v1/users/import', { body: { users: big } }),
        d.request('POST', '/api/v1/user-licenses', { body: { changes: usersOf('pre', 300).map((u) => ({ userName: u.userName, code: 'clientbundle', assigned: true })) } }),
        d.request('POST', '/api/v1/license', { raw: d.license({ licenseId: 'LIC-ON-FULL-DISK', quantities: { users: 60_000, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: 20_000 } }) }),
        ...Array.from({ length: 30 }, (_, i) => post(d!, token, '/api/v1/users', { userName: `small${i}` })),
      ]);
      expectStoreUnavailable(imported, `bulk import on a full disk (${disk.kind})`);
      if (batch.status !== 200) expectStoreUnavailable(batch, 'batch assignment on a full disk');
      if (license.status !== 200) expectStoreUnavailable(license, 'license install on a full disk');
      for (const s of small) expect([201, 503], 'a registration on a full disk').to.include(s);

      // Reads go on, and what was refused left nothing behind.
      const status = await d.request('GET', '/api/v1/status');
      expect(status.status).to.equal(200);
      expect(status.json.licenseId).to.equal(license.status === 200 ? 'LIC-ON-FULL-DISK' : 'LIC-DISK');
      const list = await d.request('GET', '/api/v1/users?q=full&limit=1');
      expect(list.status).to.equal(200);
      expect(list.json.total, 'no user of the refused import').to.equal(0);
      const registered = small.filter((s) => s === 201).length;
      expect((await d.request('GET', '/api/v1/users?q=small&limit=1')).json.total, 'exactly the registrations answered 201').to.equal(registered);
      const during = await countsInDb(d.dataDir);
      expect(during.activeUsers).to.equal(before.activeUsers + registered);
      expect(during.held.clientbundle ?? 0, 'the batch is whole or absent').to.equal(batch.status === 200 ? 300 : 0);
      expect(d.output.filter((l) => /request failed/.test(l)), 'no internal error').to.deep.equal([]);

      disk.free(d.pid);
      const again = await d.request('POST', '/api/v1/users/import', { body: { users: big } });
      expect(again.status, again.text.slice(0, 300)).to.equal(200);
      expect(again.json.created).to.have.length(big.length);
      expect((await d.request('GET', '/api/v1/users?limit=1')).json.total).to.equal(listBefore + registered + big.length);
      expect((await d.request('GET', '/api/v1/audit/verify')).json.ok).to.equal(true);
      expect(await d.stop()).to.equal(0);
      expect(await integrityCheck(disk.dataDir)).to.equal('ok');

      // And it starts again on that folder with everything in it.
      d = await TestDaemon.start({ dataDir: disk.dataDir, config: { log: { level: 'warn' } } });
      expect((await d.request('GET', '/api/v1/users?limit=1')).json.total).to.equal(listBefore + registered + big.length);
    } finally {
      await d?.stop();
      disk.dispose();
    }
  });

  it('refuses writes to a read-only data folder with STORE_UNAVAILABLE, keeps serving reads, and recovers when it is writable again', async function () {
    // chattr +i is what makes a folder read-only for root, on a file system that honours it.
    const folder = immutableCapableFolder();
    const dataDir = folder.dataDir;
    expect(immutableBindsOpenFiles(dataDir), `chattr +i does not stop writes on the file system of ${dataDir} (${folder.kind})`).to.equal(true);
    let d: TestDaemon | null = null;
    let readOnly = false;
    try {
      d = await TestDaemon.start({ dataDir, config: { log: { level: 'warn' } } });
      await d.installLicense({ licenseId: 'LIC-RO', quantities: { users: 1000, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: 100 } });
      expect((await d.request('POST', '/api/v1/users', { body: { userName: 'before' } })).status).to.equal(201);
      const auditRows = (await d.request('GET', '/api/v1/audit/verify')).json.rows;

      setReadOnly(dataDir, (readOnly = true));
      expectStoreUnavailable(await d.request('POST', '/api/v1/users', { body: { userName: 'during' } }), 'registration on a read-only folder');
      expectStoreUnavailable(await d.request('POST', '/api/v1/users/import', { body: { users: usersOf('ro', 2000) } }), 'import on a read-only folder');
      const reads = await d.request('GET', '/api/v1/users?limit=100');
      expect(reads.status).to.equal(200);
      expect(reads.json.users.map((u: { userName: string }) => u.userName)).to.deep.equal(['supervisor', 'before']);
      expect((await d.request('GET', '/api/v1/status')).json.licenseId).to.equal('LIC-RO');

      setReadOnly(dataDir, (readOnly = false));
      expect((await d.request('POST', '/api/v1/users', { body: { userName: 'after' } })).status).to.equal(201);
      const names = (await d.request('GET', '/api/v1/users?limit=100')).json.users.map((u: { userName: string }) => u.userName);
      expect(names).to.deep.equal(['supervisor', 'after', 'before']);
      const audit = (await d.request('GET', '/api/v1/audit/verify')).json;
      expect(audit).to.include({ ok: true, rows: auditRows + 1 });
      expect(await d.stop()).to.equal(0);
      expect(await integrityCheck(dataDir)).to.equal('ok');
    } finally {
      if (readOnly) setReadOnly(dataDir, false);
      await d?.stop();
      folder.dispose();
    }
  });
});
