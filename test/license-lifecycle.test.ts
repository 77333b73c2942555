import { expect } from 'chai';
import { DAY, TestDaemon, iso, sleep } from './support/daemon.js';
import { integrityCheck, queryDb } from './support/reliability.js';

describe('license modes over time, restarts and crashes', function () {
  this.timeout(120_000);

  it('moves Licensed → Grace (with a countdown) → Entry as the clock passes expiry, and back on renewal', async () => {
    const d = await TestDaemon.start();
    try {
      const now = Date.now();
      await d.installLicense({ expiresAt: iso(now + 5 * DAY), quantities: { users: 50, 'devices.cisco': 5, 'devices.unify': 5 } });
      expect((await d.status()).mode).to.equal('licensed');

      await d.setClock(new Date(now + 6 * DAY));
      let s = await d.status();
      expect(s.mode).to.equal('grace');
      expect(s.graceDaysLeft).to.equal(13);
      expect(s.codes.find((c: any) => c.code === 'users').total, 'grace keeps the quantities').to.equal(50);

      await d.setClock(new Date(now + 5 * DAY + 14 * DAY + 60_000));
      s = await d.status();
      expect(s.mode).to.equal('entry');
      expect(s.reason.code).to.equal('MODE_LICENSE_EXPIRED');
      expect(s.codes.find((c: any) => c.code === 'users').total).to.equal(5);
      expect(s.codes.find((c: any) => c.code === 'devices.cisco').total).to.equal(0);
      expect(d.output.some((l) => /mode changed from=grace to=entry/.test(l))).to.equal(true);

      const clock = await d.request('GET', '/api/v1/dev/clock');
      await d.installLicense({ issuedAt: iso(Date.parse(clock.json.now) - 60_000), validFrom: iso(Date.parse(clock.json.now) - 60_000), expiresAt: iso(Date.parse(clock.json.now) + 365 * DAY) });
      expect((await d.status()).mode).to.equal('licensed');
    } finally {
      await d.dispose();
    }
  });

  it('keeps the license and mode across a restart', async () => {
    let d = await TestDaemon.start();
    try {
      await d.installLicense({ licenseId: 'LIC-KEEP', edition: 'Enterprise' });
      const systemId = d.systemId;
      d = await d.restart();
      const s = await d.status();
      expect(s).to.include({ licenseId: 'LIC-KEEP', edition: 'Enterprise', mode: 'licensed', systemId });
    } finally {
      await d.dispose();
    }
  });

  it('exits 0 on SIGTERM', async () => {
    const d = await TestDaemon.start();
    expect(await d.stop()).to.equal(0);
    await d.dispose();
  });

  it('after SIGKILL in the middle of activations, exactly the old or the new license is in force and the database is intact', async () => {
    let d = await TestDaemon.start();
    try {
      await d.installLicense({ licenseId: 'LIC-OLD' });
      const candidates = Array.from({ length: 8 }, (_, i) => d.license({ licenseId: `LIC-NEW-${i}` }));
      for (let round = 0; round < 6; round++) {
        const token = await d.adminToken();
        const inflight = candidates.map((text) =>
          fetch(`${d.apiUrl}/api/v1/license`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body: text }).then((r) => r.status, () => 'killed'),
        );
        await sleep(5 + Math.floor(Math.random() * 40));
        const before = (await d.status().catch(() => null))?.licenseId;
        await d.kill('SIGKILL');
        await Promise.all(inflight);
        expect(await integrityCheck(d.dataDir)).to.equal('ok');
        d = await TestDaemon.start({ dataDir: d.dataDir });
        const s = await d.status();
        expect(['LIC-OLD', ...candidates.map((_, i) => `LIC-NEW-${i}`)]).to.include(s.licenseId);
        if (before) expect(s.licenseId === before || s.licenseId.startsWith('LIC-NEW')).to.equal(true);
        expect(s.mode).to.equal('licensed');
        const [active] = await queryDb<{ n: number }>(d.dataDir, "SELECT COUNT(*) AS n FROM licenses WHERE state = 'active'");
        expect(active!.n).to.equal(1);
        expect((await d.request('GET', '/api/v1/audit/verify')).json.ok).to.equal(true);
      }
    } finally {
      await d.dispose();
      const { rmSync } = await import('node:fs');
      rmSync(d.dataDir, { recursive: true, force: true });
    }
  });
});
