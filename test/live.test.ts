import http from 'node:http';
import { expect } from 'chai';
import { TestDaemon } from './support/daemon.js';
import { eventually } from './support/eventually.js';
import { browserSession, LiveClient } from './support/live.js';

describe('live channel (socket.io)', function () {
  let d: TestDaemon;
  const open: LiveClient[] = [];
  const connect = (opts: Parameters<typeof LiveClient.connect>[1] = {}) => {
    const c = LiveClient.connect(d, opts);
    open.push(c);
    return c;
  };

  before(async () => {
    d = await TestDaemon.start();
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  after(async () => d.dispose());

  it('refuses a socket without a session or token, and one with a wrong token', async () => {
    const anon = connect();
    const err = await anon.connected().then(() => null, (e) => e);
    expect(err, 'an unauthenticated socket must not connect').to.be.an('error');
    expect(err.data.code).to.equal('AUTH_REQUIRED');
    expect(err.data.text.de).to.match(/Sitzung/);
    expect(anon.received, 'nothing is sent to a refused socket').to.deep.equal([]);

    const bad = connect({ token: 'not-a-token' });
    const err2 = await bad.connected().then(() => null, (e) => e);
    expect(err2.data.code).to.equal('AUTH_REQUIRED');
  });

  it('accepts the session cookie only from a page of its own origin', async () => {
    const { cookie } = await browserSession(d);
    const foreign = connect({ cookie, origin: 'http://evil.example' });
    const err = await foreign.connected().then(() => null, (e) => e);
    expect(err.data.code).to.equal('AUTH_ORIGIN');
    const none = connect({ cookie });
    expect((await none.connected().then(() => null, (e) => e)).data.code, 'no Origin at all').to.equal('AUTH_ORIGIN');

    const own = connect({ cookie, origin: d.apiUrl });
    await own.connected();
    await own.until(() => own.events('status').length > 0, 'the status snapshot');
    expect(own.events('status')[0].systemId).to.equal(d.systemId);
  });

  it('sends a status snapshot on connect, then every kind of change as it happens', async () => {
    const c = connect({ token: await d.adminToken() });
    await c.connected();
    await c.until(() => c.events('status').length >= 1, 'the snapshot');
    expect(c.events('status')[0].mode).to.equal('entry');

    // A refused upload, a staged file, its activation (Entry → Licensed), each with audit entries.
    const garbage = await d.request('POST', '/api/v1/license/stage', { raw: 'not a license' });
    expect(garbage.status).to.equal(400);
    const staged = await d.request('POST', '/api/v1/license/stage', { raw: d.license({ edition: 'Enterprise', quantities: { users: 50 }, perUser: { clientbundle: 10 } }) });
    expect(staged.status).to.equal(201);
    const act = await d.request('POST', '/api/v1/license/activate', { body: { stageId: staged.json.stageId } });
    expect(act.status).to.equal(200);

    // Users, their per-user licenses and the tenants' pools.
    expect((await d.request('POST', '/api/v1/users', { body: { userName: 'live.user', firstName: 'Live', lastName: 'User' } })).status).to.equal(201);
    expect((await d.request('POST', '/api/v1/user-licenses', { body: { changes: [{ userName: 'live.user', code: 'clientbundle', assigned: true }] } })).status).to.equal(200);
    expect((await d.request('PUT', '/api/v1/tenants/acme', { body: { seats: 5 } })).status).to.equal(200);

    await c.until(() => c.events('tenants.changed').length > 0 && c.events('status').some((s) => s.codes.find((x: any) => x.code === 'clientbundle')?.used === 1), 'the last change and its status');
    expect(c.events('users.changed')[0]).to.deep.include({ action: 'created', userNames: ['live.user'] });
    expect(c.events('userLicenses.changed')[0].changes).to.deep.equal([{ userName: 'live.user', code: 'clientbundle', assigned: true }]);
    expect(c.events('tenants.changed')[0]).to.include({ tenant: 'acme', seats: 5 });
    expect(c.events('license.refused')[0].refusal.code).to.equal('LIC_MALFORMED');
    expect(c.events('license.staged')[0].stageId).to.equal(staged.json.stageId);
    expect(c.events('license.activated')[0].by).to.equal('admin');
    expect(c.events('mode.changed')[0]).to.include({ from: 'entry', to: 'licensed' });
    expect(c.events('audit.appended').map((e) => e.action)).to.include.members(['license.stage', 'license.activate']);
    const s = c.events('status').at(-1);
    expect(s.edition).to.equal('Enterprise');
    expect(s.codes.find((x: any) => x.code === 'users')).to.include({ used: 1, total: 50 });
    expect(c.received.map((m) => m.name), 'logins are not forwarded').to.not.include('admin.login');
  });

  it('forwards device changes and provisioning outcomes, but not the per-request metrics', async () => {
    const c = connect({ token: await d.adminToken() });
    await c.connected();
    await c.until(() => c.events('status').length >= 1, 'the snapshot');
    if ((await d.request('GET', '/api/v1/devices')).status === 404) {
      // No provisioning service in this build: there is nothing to forward.
      expect(c.received.map((m) => m.name)).to.not.include.members(['devices.changed', 'provisioning.event']);
      return;
    }
    const address = d.listeners.provisioning_http!;
    const i = address.lastIndexOf(':');
    const ask = (mac: string) =>
      new Promise<number>((resolve, reject) =>
        http.get({ host: address.slice(0, i), port: Number(address.slice(i + 1)), path: `/SEP${mac}.cnf.xml`, agent: false }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject),
      );
    expect(await ask('00562B0436F1')).to.equal(404); // unknown phone: recorded, not served
    await c.until(() => c.events('devices.changed').length > 0 && c.events('provisioning.event').length > 0, 'devices.changed and provisioning.event');
    expect(c.events('devices.changed')[0].macs).to.include('00562b0436f1');
    expect(c.events('provisioning.event')[0]).to.include({ mac: '00562b0436f1', outcome: 'unknown' });
    // A second phone's events arrive after anything the first request sent: by then no metrics events.
    expect(await ask('00562B0436F2')).to.equal(404);
    await c.until(() => c.events('provisioning.event').some((e) => e.mac === '00562b0436f2'), 'the second phone\'s provisioning.event');
    expect(c.received.map((m) => m.name)).to.not.include('provisioning.request');
  });

  it('delivers a burst of changes as batches in which no event is lost', async () => {
    const c = connect({ token: await d.adminToken() });
    await c.connected();
    await c.until(() => c.events('status').length >= 1, 'the snapshot');
    const n = 12;
    const stages = await Promise.all(Array.from({ length: n }, (_, i) => d.request('POST', '/api/v1/license/stage', { raw: d.license({ licenseId: `BURST-${i}` }) })));
    expect(stages.every((r) => r.status === 201)).to.equal(true);
    await c.until(() => c.events('license.staged').length === n, `${n} license.staged events`);
    expect(new Set(c.events('license.staged').map((e) => e.licenseId)).size).to.equal(n);
    for (const m of c.received.filter((x) => x.name === 'license.staged')) {
      expect(m.payload, 'a batch is a list of { at, data }').to.be.an('array');
      expect(m.payload[0].at).to.match(/^\d{4}-\d\d-\d\dT/);
    }
  });

  it('counts its connected sockets for /metrics', async () => {
    const gauge = async () => Number(/^pbxd_ui_sockets (\d+)$/m.exec((await d.request('GET', '/metrics', { auth: false })).text)?.[1]);
    const a = connect({ token: await d.adminToken() });
    const b = connect({ token: await d.adminToken() });
    await Promise.all([a.connected(), b.connected()]);
    await eventually(async () => expect(await gauge()).to.equal(2));
    b.close();
    await eventually(async () => expect(await gauge()).to.equal(1));
  });

  it("closes a browser session's sockets when it logs out, and refuses it afterwards", async () => {
    const { cookie, csrf } = await browserSession(d);
    const c = connect({ cookie, origin: d.apiUrl });
    await c.connected();
    const token = connect({ token: await d.adminToken() });
    await token.connected();
    const closed = new Promise<string>((r) => c.socket.once('disconnect', (reason) => r(reason)));
    const out = await fetch(d.apiUrl + '/api/v1/auth/logout', { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).to.equal(200);
    expect(await closed).to.equal('io server disconnect');
    expect(token.socket.connected, 'other sessions stay connected').to.equal(true);

    const again = connect({ cookie, origin: d.apiUrl });
    expect((await again.connected().then(() => null, (e) => e)).data.code).to.equal('AUTH_REQUIRED');
  });
});
