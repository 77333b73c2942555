import { expect } from 'chai';
import http from 'node:http';
import { TestDaemon } from './support/daemon.js';
import { apiOf } from './support/api.js';
import { addDevice, assign, ciscoBoot } from './support/provisioning.js';
import { outcomeCode } from '../daemon/core/devices.js';

/** The reads behind the overview page and the users page's suspended list, through the API as the UI calls them. */
describe('web UI reads: overview and suspended licenses', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(async () => {
    await d?.dispose();
  });
  const api = apiOf(() => d);
  /** The recorded peaks follow changes after a short gathering delay: ask until they show, or the test times out. */
  async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
    for (;;) {
      const v = await read();
      if (ok(v)) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('needs an admin', async () => {
    const url = new URL('/api/v1/overview', d.apiUrl);
    const status = await new Promise<number>((resolve, reject) => http.get(url, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject));
    expect(status).to.equal(401);
  });

  it("answers today's peak of users and devices, phones waiting, and no clock alert", async () => {
    await d.installLicense({ edition: 'Standard', quantities: { users: 50, 'devices.cisco': 1 }, perUser: { clientbundle: 1 } });
    for (const u of ['ada', 'bob', 'cyd']) await api('POST', '/users', { userName: u, firstName: u, lastName: u });
    for (const [mac, user] of [['00562b0400a1', 'ada'], ['00562b0400a2', 'bob']]) {
      await addDevice(d, mac!, 'cisco', 'CP-8845');
      await assign(d, mac!, user!);
      await ciscoBoot(d, mac!);
    }
    const today = (await d.status()).now.slice(0, 10);
    const o = await until(() => api('GET', '/overview'), (v: any) => v.peaks.some((p: any) => p.day === today && p.devices === 1 && p.users === 3));
    expect(o.peaks).to.have.length(1);
    expect(o.waitingDevices, 'one Cisco license for two phones').to.equal(1);
    expect(o.clock).to.equal(null);
    expect(o.provisioningRejected.count).to.equal(0);

    // A peak stays the peak of its day when use falls again.
    await api('DELETE', '/users/cyd');
    await until(() => d.status(), (s: any) => s.codes.find((c: any) => c.code === 'users').used === 2);
    await api('POST', '/users', { userName: 'dan', firstName: 'dan', lastName: 'dan' }); // a change that records peaks again, at 3
    await api('DELETE', '/users/dan');
    const after = await until(() => api('GET', '/overview'), (v: any) => v.peaks.length === 1);
    expect(after.peaks[0].users).to.equal(3);
  });

  it('lists whose per-user licenses are suspended, a page at a time, and refuses a page too large', async () => {
    const expiresAt = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await d.installLicense({ edition: 'Standard', expiresAt, quantities: { users: 50, 'devices.cisco': 1 }, perUser: { clientbundle: 1 } });
    await api('POST', '/user-licenses', { changes: [{ userName: 'ada', code: 'clientbundle', assigned: true }] });
    expect((await api('GET', '/user-licenses/suspended')).total).to.equal(0);
    // Past the end of the license and its grace period: Entry, the assignment is kept but suspended.
    await d.setClock(new Date(Date.now() + 20 * 86_400_000));
    const r = await until(() => api('GET', '/user-licenses/suspended?limit=1'), (v: any) => v.total === 1);
    expect(r.users).to.deep.equal([{ userName: 'ada', firstName: 'ada', lastName: 'ada', codes: ['clientbundle'] }]);
    expect((await api('GET', '/user-licenses/suspended?limit=1&offset=1')).users).to.deep.equal([]);
    const tooMany = await d.request('GET', '/api/v1/user-licenses/suspended?limit=501');
    expect(tooMany.status).to.equal(400);
    expect(tooMany.json.error.code).to.equal('REQ_INVALID');
    // The system clock back: now far behind the trusted time, which the overview reports.
    await d.request('PUT', '/api/v1/dev/clock', { body: { offsetMs: 0 } });
    const o = await api('GET', '/overview');
    expect(o.clock.behindMinutes).to.be.within(20 * 1440 - 5, 20 * 1440 + 5);
  });
});

describe('provisioning outcomes as the UI words them: code and values', () => {
  it('reads the code and values from what the provisioning server notes', () => {
    const c = (outcome: string, detail: string) => outcomeCode({ outcome: outcome as never, detail });
    expect(c('served', 'configuration served; took a devices.cisco license')).to.deep.equal({ code: 'served.licensed', values: { license: 'devices.cisco' } });
    expect(c('served', 'configuration served (SEP00562B0436A1.cnf.xml)')).to.deep.equal({ code: 'served', values: {} });
    expect(c('refused_license', 'waiting for license (devices.unify: 1 of 1 in use)')).to.deep.equal({ code: 'refused.license', values: { license: 'devices.unify' } });
    expect(c('blocked', 'blocked by an admin')).to.deep.equal({ code: 'refused.blocked', values: {} });
    expect(c('unknown', 'no user assigned')).to.deep.equal({ code: 'refused.unassigned', values: {} });
    expect(c('unknown', 'recorded as unassigned')).to.deep.equal({ code: 'unknown.recorded', values: {} });
    expect(c('unknown', 'not recorded: 20 unassigned devices from 10.0.0.7 already')).to.deep.equal({ code: 'unknown.bounded', values: { limit: 20, ip: '10.0.0.7' } });
    expect(c('unknown', 'not recorded: no User-Agent of the vendor')).to.deep.equal({ code: 'unknown.notRecorded', values: {} });
    expect(c('rejected', 'PROV_TOO_LARGE: more than 65536 bytes')).to.deep.equal({ code: 'PROV_TOO_LARGE', values: {} });
    expect(c('rejected', 'something new')).to.deep.equal({});
  });
});
