import { expect } from 'chai';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { TestDaemon } from './support/daemon.js';
import { waitForLine } from './support/lifecycle.js';

function walk(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    out.push(p);
    if (lstatSync(p).isDirectory()) walk(p, out);
  }
  return out;
}

describe('data folder file modes without systemd', function () {
  this.timeout(60_000);

  it('creates every file 0600 and every folder 0700 in a pre-existing data folder, and warns about files others can read', async () => {
    // As an admin would have it: a data folder made by hand, readable by all, started from a shell with umask 022.
    const dataDir = mkdtempSync(join(tmpdir(), 'pbxd-modes-'));
    chmodSync(dataDir, 0o755);
    writeFileSync(join(dataDir, 'notes.txt'), 'left here by someone\n', { mode: 0o644 });
    const d = await TestDaemon.start({ dataDir, env: { PBXD_LOG_LEVEL: 'info' } });
    try {
      await d.request('POST', '/api/v1/users', { body: { userName: 'alice' } }).catch(() => undefined);
      const backup = await d.request('POST', '/api/v1/backups');
      expect(backup.status, backup.text).to.equal(201);
      const ours = walk(dataDir).filter((p) => !['test-config.json', 'notes.txt'].includes(relative(dataDir, p)));
      expect(ours.map((p) => relative(dataDir, p))).to.include.members(['pbxd.db', 'pbxd.db-wal', 'tls/server.key', 'tls/ca.crt']);
      expect(ours.some((p) => relative(dataDir, p).startsWith('backups/'))).to.equal(true);
      const modes = Object.fromEntries(ours.map((p) => [relative(dataDir, p), (lstatSync(p).mode & 0o777).toString(8)]));
      const expected = Object.fromEntries(ours.map((p) => [relative(dataDir, p), lstatSync(p).isDirectory() ? '700' : '600']));
      expect(modes).to.deep.equal(expected);
      // What pbxd did not make is reported, not changed (the test's own config file holds a password too).
      const warning = await waitForLine(d, /can be read by other users/);
      expect(warning).to.contain('notes.txt').and.contain('test-config.json');
      expect(lstatSync(join(dataDir, 'notes.txt')).mode & 0o777).to.equal(0o644);
    } finally {
      await d.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
