import { expect } from 'chai';
import http from 'node:http';
import { TestDaemon } from './support/daemon.js';
import { apiOf } from './support/api.js';
import { eventually } from './support/eventually.js';
import { addDevice, assign, ciscoBoot, prov } from './support/provisioning.js';
import { io, type Socket } from 'socket.io-client';
import { foreignWords } from './support/i18n.js';

/** What follows a change after a short delay (recorded peaks, live events): ask until it shows. */
const until = <T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> =>
  eventually(async () => {
    const v = await read();
    if (!ok(v)) throw new Error(`not reached: ${JSON.stringify(v).slice(0, 300)}`);
    return v;
  }, 10_000, 100);

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

describe('provisioning outcomes as the UI and pbxctl word them: code and values from the source', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  let socket: Socket | null = null;
  before(async () => {
    d = await TestDaemon.start();
    await d.installLicense({ quantities: { users: 10, 'devices.cisco': 1 } });
  });
  after(async () => {
    socket?.close();
    await d?.dispose();
  });

  it('sends each outcome with its code, values and both texts, over the API and the socket', async () => {
    socket = io(d.apiUrl, { path: '/socket.io', auth: { token: await d.adminToken() }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => (socket!.once('connect', () => resolve()), socket!.once('connect_error', reject)));
    const live: any[] = [];
    socket.on('provisioning.event', (p: any) => live.push(...(Array.isArray(p) ? p : [p]).map((e: any) => e.data ?? e)));

    await ciscoBoot(d, '00562b0436d4'); // unknown: recorded without a user
    await d.request('POST', '/api/v1/users', { body: { userName: 'ute', firstName: 'Ute', lastName: 'Lang' } });
    await d.request('POST', '/api/v1/users', { body: { userName: 'udo', firstName: 'Udo', lastName: 'Lang' } });
    await assign(d, '00562b0436d4', 'ute');
    await ciscoBoot(d, '00562b0436d4'); // served, takes the one devices.cisco license
    await addDevice(d, '00562b0436e5', 'cisco', 'CP-8845');
    await assign(d, '00562b0436e5', 'udo');
    await ciscoBoot(d, '00562b0436e5'); // waits: 1 of 1 in use
    await prov(d, '/SEP00562B0436D4.cnf.xml', { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0' }); // a browser: an alert

    const r = await d.request('GET', '/api/v1/provisioning/events?limit=100&order=asc');
    const byCode = (code: string) => r.json.events.find((e: any) => e.code === code);
    expect(byCode('unknown.recorded')).to.include({ mac: '00562b0436d4', detail: 'recorded as unassigned' });
    expect(byCode('served.licensed').values).to.deep.equal({ license: 'devices.cisco' });
    expect(byCode('served.licensed').text.de).to.equal('Konfiguration ausgeliefert; Lizenz "devices.cisco" belegt');
    expect(byCode('refused.license.used')).to.deep.include({ mac: '00562b0436e5', values: { license: 'devices.cisco', used: 1, quota: 1 } });
    expect(byCode('refused.license.used').detail).to.equal('waiting for license (devices.cisco: 1 of 1 in use)');
    expect(byCode('alert.browser').values).to.include({ mac: '00562b0436d4', file: 'config' });
    for (const e of r.json.events) {
      expect(e.detail, e.code).to.equal(e.text.en);
      expect(foreignWords(e.text.de, 'de'), e.text.de).to.deep.equal([]);
    }
    // The same events reached the socket, with the same code, values and texts.
    await until(async () => live.length, (n) => n >= r.json.events.length);
    for (const e of r.json.events) expect(live.find((l) => l.at === e.at && l.code === e.code), e.code).to.deep.equal(e);
    // The UI's texts carry the catalogue the daemon words them from.
    const ui = (await d.request('GET', '/i18n/de.json', { auth: false })).json;
    expect(ui['msg.served.licensed']).to.equal('Konfiguration ausgeliefert; Lizenz "{license}" belegt');
    expect(ui['msg.outcome.refused_license']).to.equal('Abgelehnt: keine Lizenz');
  });
});
