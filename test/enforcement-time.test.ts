import { expect } from 'chai';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAY, TestDaemon, iso } from './support/daemon.js';

describe('enforcement: trusted time that survives restores', function () {
  this.timeout(120_000);

  it('a backup from before the expiry, restored, does not bring an expired appliance back to Licensed', async () => {
    const now = Date.now();
    let d = await TestDaemon.start();
    try {
      await d.installLicense({ licenseId: 'LIC-SHORT', expiresAt: iso(now + 10 * DAY) });
      const made = JSON.parse((await d.ctl(['backup', 'now', '--json'])).stdout).backup.path as string;
      const backup = join(mkdtempSync(join(tmpdir(), 'pbxd-backup-')), 'before-expiry.db');
      cpSync(made, backup);

      // 40 days later: expired, and the 14 days of grace are over.
      await d.setClock(new Date(now + 40 * DAY));
      expect((await d.status()).reason.code).to.equal('MODE_LICENSE_EXPIRED');
      await d.stop();
      const kept = Date.parse(readFileSync(join(d.dataDir, 'trusted-time'), 'utf8').trim());
      expect(kept, 'the trusted time is kept outside the database').to.be.at.least(now + 40 * DAY);

      // The backup (whose database says "now") goes back in; the system clock says "now" again.
      const r = await d.ctl(['backup', 'restore', backup, '--config', d.configFile]);
      expect(r.code, r.stderr).to.equal(0);
      d = await TestDaemon.start({ dataDir: d.dataDir });
      const s = await d.status();
      expect(s.licenseId).to.equal('LIC-SHORT');
      expect(s.mode, 'still expired').to.equal('entry');
      expect(s.reason.code).to.equal('MODE_LICENSE_EXPIRED');
      expect(Date.parse(s.now)).to.be.at.least(now + 40 * DAY);
    } finally {
      await d.dispose();
      rmSync(d.dataDir, { recursive: true, force: true });
    }
  });
});
