import { expect } from 'chai';
import { copyFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from './support/eventually.js';
import { TestDaemon } from './support/daemon.js';
import { FakeNotifySocket } from './support/systemd.js';

async function readyz(d: TestDaemon) {
  const r = await fetch(`${d.apiUrl}/readyz`);
  return { status: r.status, body: (await r.json()) as { status: string; checks: Record<string, { ok: boolean; problem?: string }> } };
}

const until = (what: string, ok: () => boolean): Promise<void> =>
  eventually(() => {
    if (!ok()) throw new Error(`timed out waiting for ${what}`);
  }, 10_000, 20);

describe('enforcement: readiness that sees the database', function () {
  this.timeout(60_000);

  it('a deleted database file turns /readyz red with a named check and refuses writes with STORE_UNAVAILABLE', async () => {
    const d = await TestDaemon.start();
    try {
      const before = await readyz(d);
      expect(before.status).to.equal(200);
      expect(before.body.checks).to.include.keys('database-file', 'database-writable', 'database-schema');
      await d.adminToken();

      rmSync(join(d.dataDir, 'pbxd.db'));
      const after = await readyz(d);
      expect(after.status).to.equal(503);
      expect(after.body.checks['database-file']).to.deep.equal({ ok: false, problem: `the database file ${join(d.dataDir, 'pbxd.db')} was deleted while pbxd had it open` });
      const w = await d.request('POST', '/api/v1/users', { body: { userName: 'lost' } });
      expect(w.status).to.equal(503);
      expect(w.json.error.code).to.equal('STORE_UNAVAILABLE');
      expect(w.json.error.message).to.contain('was deleted while pbxd had it open').and.contain('nothing was changed');
    } finally {
      await d.dispose();
    }
  });

  it('a database file replaced under pbxd turns /readyz red and refuses writes', async () => {
    const d = await TestDaemon.start();
    try {
      await d.adminToken();
      const db = join(d.dataDir, 'pbxd.db');
      copyFileSync(db, db + '.other');
      renameSync(db + '.other', db);
      const r = await readyz(d);
      expect(r.status).to.equal(503);
      expect(r.body.checks['database-file']!.problem).to.match(/was replaced while pbxd had it open$/);
      const w = await d.request('POST', '/api/v1/users', { body: { userName: 'lost' } });
      expect(w.json.error.code).to.equal('STORE_UNAVAILABLE');
    } finally {
      await d.dispose();
    }
  });

  it('the systemd watchdog stops pinging once the database file is gone', async () => {
    const notify = await FakeNotifySocket.start();
    const d = await TestDaemon.start({ env: { NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '400000' } });
    try {
      await notify.waitFor('WATCHDOG', '1', 2);
      rmSync(join(d.dataDir, 'pbxd.db'));
      const withheld = () => d.output.filter((l) => l.includes('watchdog ping withheld') && l.includes('database-file')).length;
      await until('a withheld ping', () => withheld() >= 1);
      const pings = notify.with('WATCHDOG').length;
      // Two more intervals pass (each says so in the log): no ping in between.
      await until('two more withheld pings', () => withheld() >= 3);
      expect(notify.with('WATCHDOG').length).to.equal(pings);
    } finally {
      await d.dispose();
      notify.close();
    }
  });
});
