import { expect } from 'chai';
import { TestDaemon } from './support/daemon.js';
import { addUser, assign, ciscoBoot, device } from './support/provisioning.js';

const DAY = 86400_000;
const MAC = '00562b0a0b0c';

/** A licensed Cisco phone that booted once, then the clock moves 40 days on. */
async function phoneSilentFor40Days(config: Record<string, unknown>): Promise<TestDaemon> {
  const d = await TestDaemon.start({ config });
  await d.installLicense({ quantities: { users: 5, 'devices.cisco': 1, 'devices.unify': 0 } });
  await addUser(d, 'gerd');
  await ciscoBoot(d, MAC); // first contact: recorded as unassigned, no configuration
  await assign(d, MAC, 'gerd');
  const boot = await ciscoBoot(d, MAC);
  expect(boot.some((r) => r.status === 200 && r.text.includes('<device'))).to.equal(true);
  expect((await device(d, MAC)).licenseState).to.equal('licensed');
  await d.setClock(new Date(Date.now() + 40 * DAY));
  return d;
}

describe('stale devices job against a real phone', function () {
  this.timeout(60_000);

  it('when enabled, releases the support license of a phone not seen for N days, with an event and audit entry', async () => {
    const d = await phoneSilentFor40Days({ jobs: { staleDevices: { enabled: true, days: 30, schedule: '0 4 * * *' } } });
    try {
      const r = await d.request('POST', '/api/v1/jobs/staleDevices/run');
      expect(r.status, r.text).to.equal(200);
      expect(r.json.lastRun.result).to.equal('released 1 device(s) not seen for 30 days');
      expect((await device(d, MAC)).licenseState).to.not.equal('licensed');
      expect((await d.status()).codes.find((c: any) => c.code === 'devices.cisco').used).to.equal(0);
      const audit = (await d.request('GET', '/api/v1/audit?action=device.license.release')).json.entries;
      expect(audit.map((e: any) => e.subject)).to.deep.equal([MAC]);
    } finally {
      await d.dispose();
    }
  });

  it('when disabled (the default), leaves the phone its license', async () => {
    const d = await phoneSilentFor40Days({});
    try {
      const r = await d.request('POST', '/api/v1/jobs/staleDevices/run');
      expect(r.json.error.code).to.equal('JOB_DISABLED');
      expect((await device(d, MAC)).licenseState).to.equal('licensed');
      expect((await d.status()).codes.find((c: any) => c.code === 'devices.cisco').used).to.equal(1);
    } finally {
      await d.dispose();
    }
  });
});
