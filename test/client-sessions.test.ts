import { expect } from 'chai';
import net from 'node:net';
import { TestDaemon, sleep } from './support/daemon.js';
import { addUsers, assign, ClientSocket, installClientLicense, issueToken } from './support/sessions.js';

describe('client sessions over WebSocket', function () {
  let d: TestDaemon;
  const tokens: Record<string, string> = {};
  const open: ClientSocket[] = [];
  const hello = async (user: string, kind: string, extra: Record<string, unknown> = {}, opts: { autoPong?: boolean } = {}) => {
    const c = await ClientSocket.hello(d, { kind, user, token: tokens[user], ...extra }, opts);
    open.push(c);
    return c;
  };
  const sessions = async (q = '') => (await d.request('GET', `/api/v1/sessions${q}`)).json;

  before(async () => {
    d = await TestDaemon.start({ config: { sessions: { heartbeatSeconds: 1, helloSeconds: 1, maxPerUser: 2, maxMessageBytes: 1024 } } });
    // 4 seats: paul, imported last, waits as pending
    await installClientLicense(d, { users: 4 });
    await addUsers(d, [
      { userName: 'anna', codes: ['clientbundle'] },
      { userName: 'bert', codes: [] },
      { userName: 'vera', codes: ['vap'] },
      { userName: 'carl', codes: ['clientbundle'] },
      { userName: 'paul', codes: [] },
    ]);
    for (const u of ['anna', 'bert', 'vera', 'carl', 'paul']) tokens[u] = await issueToken(d, u);
  });
  afterEach(async () => {
    for (const c of open.splice(0)) c.close();
    // wait until the daemon has seen the closes, so per-user limits start fresh
    for (let i = 0; i < 50 && (await sessions()).total > 0; i++) await sleep(20);
  });
  after(async () => d.dispose());

  it('refuses a desktop client of a user without clientbundle with 4003 naming the code, and lists no session', async () => {
    const c = await hello('bert', 'desktop');
    const closed = await c.closed;
    expect(closed.code).to.equal(4003);
    expect(closed.reason).to.contain('clientbundle');
    expect(c.messages[0].error.code).to.equal('SESS_NO_LICENSE');
    expect(c.messages[0].error.text.de).to.contain('clientbundle');
    expect((await sessions()).total).to.equal(0);
  });

  it('accepts desktop, app and TAPI of a user with clientbundle and shows them to admins (who, kind, since, from)', async () => {
    const desktop = await hello('anna', 'desktop');
    expect(desktop.welcome.session).to.include({ userName: 'anna', kind: 'desktop', code: 'clientbundle' });
    const tapi = await hello('carl', 'tapi');
    expect(tapi.welcome.session.kind).to.equal('tapi');
    const app = await hello('carl', 'app');
    expect(app.welcome.session.kind).to.equal('app');
    const list = await sessions();
    expect(list.total).to.equal(3);
    expect(list.counts).to.include({ desktop: 1, tapi: 1, app: 1, console: 0 });
    const s = list.sessions.find((x: any) => x.userName === 'anna');
    expect(s.kind).to.equal('desktop');
    expect(s.from).to.match(/^127\.0\.0\.1:\d+$/);
    expect(Date.parse(s.since)).to.be.closeTo(Date.now(), 60_000);
    expect((await sessions('?user=carl&kind=app')).sessions.map((x: any) => x.kind)).to.deep.equal(['app']);
    const metrics = (await d.request('GET', '/metrics')).text;
    expect(metrics).to.contain('pbxd_client_sessions{kind="desktop"} 1');
    expect(metrics).to.contain('pbxd_client_sessions{kind="console"} 0');
  });

  it('admits the operator console only with vap', async () => {
    const withoutVap = await hello('anna', 'console');
    const closed = await withoutVap.closed;
    expect(closed.code).to.equal(4003);
    expect(closed.reason).to.contain('vap');
    const withVap = await hello('vera', 'console');
    expect(withVap.welcome.session).to.include({ userName: 'vera', kind: 'console', code: 'vap' });
    const desktopOfVera = await hello('vera', 'desktop');
    expect((await desktopOfVera.closed).code, 'vap is not clientbundle').to.equal(4003);
  });

  it('refuses bad authentication with 4001 (wrong token, another user\'s token, no token) and a pending user with 4003', async () => {
    for (const extra of [{ token: 'pbxc_wrong' }, { token: tokens.carl }, { token: undefined }]) {
      const c = await hello('anna', 'desktop', extra);
      expect((await c.closed).code, JSON.stringify(extra)).to.equal(4001);
      expect(c.messages[0].error.code).to.equal('SESS_AUTH_INVALID');
    }
    const pending = await hello('paul', 'desktop');
    expect((await pending.closed).code, 'a pending user holds no seat').to.equal(4003);
    expect(pending.messages[0].error.code).to.equal('SESS_USER_NOT_ACTIVE');
    expect((await sessions()).total).to.equal(0);
  });

  it('closes with 4001 when no hello arrives in time, and with 4009 on an unknown kind or a message that is not a hello', async () => {
    const silent = await ClientSocket.open(d);
    open.push(silent);
    expect((await silent.closeWithin(3000)).code).to.equal(4001);
    for (const kind of ['fax', 'toString', 42]) {
      const badKind = await hello('anna', kind as string);
      expect((await badKind.closed).code, String(kind)).to.equal(4009);
      expect(badKind.messages[0].error.code).to.equal('SESS_KIND_INVALID');
    }
    const notHello = await ClientSocket.open(d);
    open.push(notHello);
    notHello.send({ type: 'ping' });
    expect((await notHello.closed).code).to.equal(4009);
  });

  it('closes on bad frames (binary, not JSON, unknown type) and oversized messages, and changes nothing', async () => {
    const big = await ClientSocket.open(d);
    open.push(big);
    big.send({ type: 'hello', kind: 'desktop', user: 'anna', token: tokens.anna, padding: 'x'.repeat(2000) });
    expect((await big.closed).code, 'message too big').to.equal(1009);
    expect((await sessions()).total, 'an oversized hello opens nothing').to.equal(0);

    const binary = await ClientSocket.open(d);
    open.push(binary);
    binary.send(Buffer.from([1, 2, 3]));
    expect((await binary.closed).code).to.equal(4009);

    const keep = await hello('anna', 'desktop');
    const garbage = await hello('anna', 'app');
    garbage.send('{not json');
    expect((await garbage.closed).code).to.equal(4009);
    const unknown = await hello('anna', 'app');
    unknown.send({ type: 'dial', number: '110' });
    expect((await unknown.closed).code).to.equal(4009);
    const list = await sessions();
    expect(list.sessions.map((s: any) => s.id), 'the other session of the user lives on').to.deep.equal([keep.welcome.session.id]);
    keep.send({ type: 'ping' });
    expect((await keep.next()).type).to.equal('pong');
  });

  it('lets exactly sessions.maxPerUser of 20 concurrent hellos of one user through', async () => {
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => hello('carl', (['desktop', 'app', 'tapi'] as const)[i % 3])));
    expect(all.filter((c) => c.welcome)).to.have.length(2);
    const refused = await Promise.all(all.filter((c) => !c.welcome).map((c) => c.closed));
    expect(refused.every((x) => x.code === 4008)).to.equal(true);
    expect((await sessions('?user=carl')).total).to.equal(2);
  });

  it('refuses more than sessions.maxPerUser sessions of one user with 4008', async () => {
    await hello('anna', 'desktop');
    await hello('anna', 'app');
    const third = await hello('anna', 'tapi');
    const closed = await third.closed;
    expect(closed.code).to.equal(4008);
    expect(third.messages[0].error.details).to.deep.equal({ userName: 'anna', limit: 2 });
    expect((await sessions('?user=anna')).total).to.equal(2);
  });

  it('lets an admin end a session (API and pbxctl) with 4011, and audits it', async () => {
    const a = await hello('anna', 'desktop');
    const r = await d.request('DELETE', `/api/v1/sessions/${a.welcome.session.id}`);
    expect(r.status).to.equal(200);
    const closed = await a.closeWithin(1000);
    expect(closed.code).to.equal(4011);
    expect(a.messages.at(-1).error.details.by).to.equal('admin');
    expect((await d.request('DELETE', `/api/v1/sessions/${a.welcome.session.id}`)).json.error.code).to.equal('SESS_NOT_FOUND');

    const c = await hello('carl', 'tapi');
    const listed = JSON.parse((await d.ctl(['sessions', 'list', '--json'])).stdout);
    expect(listed.sessions.map((s: any) => s.userName)).to.deep.equal(['carl']);
    const ended = await d.ctl(['sessions', 'end', c.welcome.session.id]);
    expect(ended.code).to.equal(0);
    expect((await c.closeWithin(1000)).code).to.equal(4011);
    const audit = await d.request('GET', '/api/v1/audit?action=session.end');
    expect(audit.json.entries.map((e: any) => e.subject)).to.have.members(['anna', 'carl']);
  });

  it('ends the sessions of a revoked client token with 4001; a new token (pbxctl users token) works', async () => {
    const before = await hello('carl', 'desktop');
    // last use is recorded just after the welcome
    let list = (await d.request('GET', '/api/v1/users/carl/client-tokens')).json.tokens;
    for (let i = 0; i < 50 && !list[0].lastUsedAt; i++) await sleep(20), (list = (await d.request('GET', '/api/v1/users/carl/client-tokens')).json.tokens);
    expect(list[0]).to.not.have.property('token');
    expect(list[0].lastUsedAt).to.be.a('string');
    const r = await d.request('DELETE', `/api/v1/client-tokens/${list[0].id}`);
    expect(r.status).to.equal(200);
    expect((await before.closeWithin(1000)).code).to.equal(4001);
    const again = await hello('carl', 'desktop');
    expect((await again.closed).code, 'the revoked token no longer works').to.equal(4001);
    const unknownUser = await d.request('POST', '/api/v1/users/nobody/client-tokens', { body: {} });
    expect([unknownUser.status, unknownUser.json.error.code]).to.deep.equal([404, 'REQ_NOT_FOUND']);
    const unknownToken = await d.request('DELETE', '/api/v1/client-tokens/999');
    expect([unknownToken.status, unknownToken.json.error.code]).to.deep.equal([404, 'SESS_TOKEN_NOT_FOUND']);
    expect((await d.request('DELETE', '/api/v1/client-tokens/abc')).json.error.code).to.equal('REQ_INVALID');
    const issued = await d.ctl(['users', 'token', 'carl', '--label', 'laptop']);
    expect(issued.code).to.equal(0);
    tokens.carl = issued.stdout.trim();
    expect((await hello('carl', 'desktop')).welcome.session.userName).to.equal('carl');
  });

  it('accepts the user\'s password once the admin set one, and refuses a wrong one', async () => {
    expect((await d.request('PUT', '/api/v1/users/anna/password', { body: { password: 'short' } })).json.error.code).to.equal('REQ_INVALID');
    expect((await d.request('PUT', '/api/v1/users/anna/password', { body: { password: 'anna-secret-1' } })).status).to.equal(200);
    const ok = await hello('anna', 'desktop', { token: undefined, password: 'anna-secret-1' });
    expect(ok.welcome.session.via).to.equal('password');
    const wrong = await hello('anna', 'desktop', { token: undefined, password: 'anna-secret-2' });
    expect((await wrong.closed).code).to.equal(4001);
    expect(d.output.join('\n')).to.not.contain('anna-secret-1');
  });

  it('cuts a client that stops answering heartbeats and drops its session', async () => {
    const dead = await hello('anna', 'desktop', {}, { autoPong: false });
    const alive = await hello('carl', 'desktop');
    const closed = await dead.closeWithin(4000);
    expect(closed.code).to.equal(1006);
    const list = await sessions();
    expect(list.sessions.map((s: any) => s.userName)).to.deep.equal(['carl']);
    expect(alive.ws.readyState).to.equal(alive.ws.OPEN);
  });

  it('closes every session with 4010 when the license expires into Entry, and refuses new ones there', async () => {
    await installClientLicense(d, { users: 4, expiresAt: new Date(Date.now() + 86_400_000).toISOString() });
    const a = await hello('anna', 'desktop');
    const v = await hello('vera', 'console');
    await d.setClock(new Date(Date.now() + 60 * 86_400_000));
    expect((await d.status()).mode).to.equal('entry');
    for (const c of [a, v]) {
      const closed = await c.closeWithin(1000);
      expect(closed.code).to.equal(4010);
      expect(c.messages.at(-1).error.code).to.equal('SESS_LICENSE_REMOVED');
    }
    const refused = await hello('anna', 'desktop');
    expect((await refused.closed).code).to.equal(4003);
    await d.setClock(new Date());
    await installClientLicense(d, { users: 4 });
    // pbxd restores the suspended assignments just after the activation
    const holds = async () => (await d.request('GET', '/api/v1/user-licenses?q=anna')).json.users.find((u: any) => u.userName === 'anna')?.licenses.clientbundle;
    for (let i = 0; i < 50 && !(await holds()); i++) await sleep(20);
    const back = await hello('anna', 'desktop');
    expect(back.welcome, `reconnects once a license grants clientbundle again: ${JSON.stringify(back.messages[0])}`).to.be.an('object');
  });
});

describe('client sessions follow the user\'s licenses', function () {
  let d: TestDaemon;
  const tokens: Record<string, string> = {};
  const open: ClientSocket[] = [];
  const hello = async (user: string, kind: string) => {
    const c = await ClientSocket.hello(d, { kind, user, token: tokens[user] });
    open.push(c);
    return c;
  };
  const users = ['dora', 'emil', 'fritz', 'gina'];

  before(async () => {
    d = await TestDaemon.start();
    await installClientLicense(d);
    await addUsers(d, users.map((userName) => ({ userName, codes: ['clientbundle', 'vap'] })));
    for (const u of users) tokens[u] = await issueToken(d, u);
  });
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  after(async () => d.dispose());

  it('closes the user\'s clientbundle sessions within a second of the removal in the license table (4010), keeps the console, and lets the client reconnect once restored', async () => {
    const desktop = await hello('dora', 'desktop');
    const app = await hello('dora', 'app');
    const console_ = await hello('dora', 'console');
    const other = await hello('emil', 'desktop');
    await assign(d, [{ userName: 'dora', code: 'clientbundle', assigned: false }]);
    for (const c of [desktop, app]) {
      const closed = await c.closeWithin(1000);
      expect(closed.code).to.equal(4010);
      expect(closed.reason).to.contain('clientbundle');
      expect(c.messages.at(-1).error.remedy.de).to.contain('clientbundle');
    }
    const list = (await d.request('GET', '/api/v1/sessions')).json;
    expect(list.sessions.map((s: any) => `${s.userName}/${s.kind}`)).to.have.members(['dora/console', 'emil/desktop']);
    expect(console_.ws.readyState).to.equal(console_.ws.OPEN);
    expect(other.ws.readyState).to.equal(other.ws.OPEN);

    const refused = await hello('dora', 'desktop');
    expect((await refused.closed).code).to.equal(4003);
    await assign(d, [{ userName: 'dora', code: 'clientbundle', assigned: true }]);
    const again = await hello('dora', 'desktop');
    expect(again.welcome.session.userName).to.equal('dora');
  });

  it('leaves no session open when the license is removed while clients are connecting', async () => {
    const racers = Array.from({ length: 20 }, (_, i) => `racer${i}`);
    await addUsers(d, racers.map((userName) => ({ userName, codes: ['clientbundle'] })));
    for (const u of racers) tokens[u] = await issueToken(d, u);
    const hellos = racers.flatMap((u) => Array.from({ length: 5 }, (_, i) => hello(u, (['desktop', 'app', 'tapi'] as const)[i % 3])));
    // the removal goes out while the hellos are being checked
    await assign(d, racers.map((userName) => ({ userName, code: 'clientbundle', assigned: false })));
    const clients = await Promise.all(hellos);
    const codes = await Promise.all(clients.map((c) => c.closeWithin(2000).then((x) => x.code)));
    expect(new Set(codes)).to.satisfy((set: Set<number>) => [...set].every((code) => code === 4003 || code === 4010));
    const left = (await d.request('GET', '/api/v1/sessions')).json.sessions.filter((s: any) => s.userName.startsWith('racer'));
    expect(left).to.deep.equal([]);
  });

  it('keeps the close reason within the 123 bytes a WebSocket allows, with the full text in the error message', async () => {
    const long = 'a'.repeat(59) + '.lang'; // 64, the longest user name
    await addUsers(d, [{ userName: long, codes: [] }]);
    tokens[long] = await issueToken(d, long);
    const c = await hello(long, 'desktop');
    const closed = await c.closed;
    expect(closed.code).to.equal(4003);
    expect(Buffer.byteLength(closed.reason)).to.be.at.most(123);
    expect(closed.reason).to.match(/^User "a+/);
    expect(c.messages[0].error.text.en).to.contain(`"${long}" has no clientbundle license`);
  });

  it('closes a session when pbxctl takes the license away, and when the user is deleted', async () => {
    const c = await hello('emil', 'console');
    const r = await d.ctl(['licenses', 'unassign', 'emil', 'vap']);
    expect(r.code, r.stderr).to.equal(0);
    expect((await c.closeWithin(1000)).code).to.equal(4010);

    const f = await hello('fritz', 'tapi');
    expect((await d.request('DELETE', '/api/v1/users/fritz')).status).to.equal(200);
    const closed = await f.closeWithin(1000);
    expect(closed.code).to.equal(4010);
    expect((await d.request('GET', '/api/v1/sessions?user=fritz')).json.total).to.equal(0);
  });

  it('closes the sessions of the users a downgrade releases clientbundle from, and only those', async () => {
    const byUser = new Map<string, ClientSocket>();
    for (const u of ['dora', 'emil', 'gina']) byUser.set(u, await hello(u, 'desktop'));
    // The new license grants two fewer than are held: its plan releases two holders.
    const used = (await d.status()).codes.find((c: any) => c.code === 'clientbundle').used;
    const staged = await d.request('POST', '/api/v1/license/stage', { raw: d.license({ quantities: { users: 2000 }, perUser: { clientbundle: used - 2, vap: 20 } }) });
    expect(staged.status).to.equal(201);
    const plan = staged.json.plan.filter((p: any) => p.code === 'clientbundle');
    expect(plan).to.have.length(2);
    const act = await d.request('POST', '/api/v1/license/activate', { body: { stageId: staged.json.stageId, plan } });
    expect(act.status, act.text).to.equal(200);
    const released = new Set(plan.map((p: any) => p.id));
    for (const [u, c] of byUser) {
      if (released.has(u)) expect((await c.closeWithin(1000)).code, u).to.equal(4010);
    }
    await sleep(100);
    for (const [u, c] of byUser) if (!released.has(u)) expect(c.ws.readyState, `${u} keeps clientbundle`).to.equal(c.ws.OPEN);
    expect([...byUser.keys()].some((u) => !released.has(u)), 'at least one of them keeps it').to.equal(true);
  });
});

describe('client endpoint: shared listener, shutdown, login limits', function () {
  it('leaves upgrades for other paths to their owners, and closes sessions with 1001 when pbxd stops', async () => {
    const d = await TestDaemon.start();
    try {
      const [host, port] = d.listeners.api!.split(':');
      const raw = net.connect(Number(port), host);
      let answered = '';
      let ended = false;
      raw.on('data', (b) => (answered += b.toString()));
      raw.on('close', () => (ended = true));
      raw.write('GET /elsewhere/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
      await sleep(300);
      expect(answered, 'not answered by the client endpoint').to.equal('');
      expect(ended, 'not destroyed by the client endpoint').to.equal(false);
      raw.destroy();

      await installClientLicense(d);
      await addUsers(d, [{ userName: 'hans', codes: ['clientbundle'] }]);
      const c = await ClientSocket.hello(d, { kind: 'desktop', user: 'hans', token: await issueToken(d, 'hans') });
      expect(c.welcome).to.be.an('object');
      const exit = d.stop();
      const closed = await c.closeWithin(3000);
      expect(closed.code).to.equal(1001);
      expect(await exit).to.equal(0);
    } finally {
      await d.dispose();
    }
  });

  it('refuses client logins from an address after sessions.authFailuresPerMinute failures, even with the right token', async () => {
    const d = await TestDaemon.start({ config: { sessions: { authFailuresPerMinute: 3 } } });
    try {
      await installClientLicense(d);
      await addUsers(d, [{ userName: 'ida', codes: ['clientbundle'] }]);
      const token = await issueToken(d, 'ida');
      for (let i = 0; i < 3; i++) {
        const c = await ClientSocket.hello(d, { kind: 'desktop', user: 'ida', password: `guess-${i}-xyz` });
        expect((await c.closed).code).to.equal(4001);
        expect(c.messages[0].error.code).to.equal('SESS_AUTH_INVALID');
      }
      const limited = await ClientSocket.hello(d, { kind: 'desktop', user: 'ida', token });
      expect((await limited.closed).code).to.equal(4001);
      expect(limited.messages[0].error.code).to.equal('SESS_AUTH_RATE_LIMITED');
      expect(limited.messages[0].error.details.retryAfterSeconds).to.be.within(1, 60);
    } finally {
      await d.dispose();
    }
  });
});
