import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { TestDaemon } from './support/daemon.js';
import { SCALE, SCALE_ROOM, scaleLicense, scaledDaemon } from './support/scale.js';
import { ClientSocket, issueToken } from './support/sessions.js';
import { prov } from './support/provisioning.js';

const N = 100_000;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => from + k);

/**
 * Every list at 100,000 users, 100,000 phones, 200,000 per-user licenses and
 * 100,000 audit entries (seeded into SQLite): one page at a time with the
 * total of the whole filtered list. Times belong to `npm run bench -- growth`.
 */
describe('lists at 100,000 users and devices', function () {
  this.timeout(300_000);
  let d: TestDaemon;
  before(async () => {
    d = await scaledDaemon((dataDir) => TestDaemon.start({ dataDir, config: { log: { level: 'info' } } }), N);
  });
  after(async () => {
    await d?.stop();
    if (d) rmSync(d.dataDir, { recursive: true, force: true });
  });

  const get = async (path: string) => {
    const r = await d.request('GET', `/api/v1${path}`);
    expect(r.status, `${path}: ${r.text.slice(0, 300)}`).to.equal(200);
    return r.json;
  };
  const refused = async (path: string, field: string) => {
    const r = await d.request('GET', `/api/v1${path}`);
    expect(r.status, path).to.equal(400);
    expect(r.json.error).to.deep.include({ code: 'REQ_INVALID' });
    expect(r.json.error.details.field).to.equal(field);
    return r.json.error.message as string;
  };
  const names = (page: any) => page.users.map((u: any) => u.userName);

  it('pages users: a default page, the last page, at most 500 rows, prefix search and sorts through indexes', async () => {
    const first = await get('/users');
    expect(first).to.include({ total: N + 1, limit: 50, offset: 0 });
    expect(names(first)).to.deep.equal(['supervisor', ...range(1, 49).map(SCALE.userName)]);
    const last = await get(`/users?offset=${N - 9}`);
    expect(names(last)).to.deep.equal(range(N - 9, N).map(SCALE.userName));
    const big = await get('/users?limit=100000');
    expect(big.limit, 'more than 500 is served as 500').to.equal(500);
    expect(big.users).to.have.length(500);

    expect(await get('/users?q=user00012&limit=500')).to.deep.include({ total: 10 });
    expect(names(await get('/users?q=last09999'))).to.deep.equal(range(99990, 99999).map(SCALE.userName));
    expect(names(await get('/users?q=7000042'))).to.deep.equal([SCALE.userName(42)]);
    expect(names(await get('/users?q=First000077'))).to.deep.equal([SCALE.userName(77)]);
    expect((await get('/users?status=pending')).total).to.equal(0);

    expect(names(await get('/users?sort=lastName&order=desc&limit=3'))).to.deep.equal(['supervisor', SCALE.userName(N), SCALE.userName(N - 1)]);
    expect(names(await get('/users?sort=createdAt&offset=1&limit=2')), 'seeded before the supervisor').to.deep.equal([SCALE.userName(2), SCALE.userName(3)]);
    expect(await refused('/users?sort=extension', 'sort')).to.match(/userName.*lastName/);
    await refused('/users?order=sideways', 'order');
    await refused('/users?limit=0', 'limit');
  });

  it('pages devices by license state, vendor, user and prefix, never with a line secret', async () => {
    const all = await get('/devices');
    expect(all).to.include({ total: N, limit: 50, offset: 0 });
    expect(all.devices.map((x: any) => x.mac)).to.deep.equal(range(1, 50).map(SCALE.mac));

    const waiting = await get('/devices?state=waiting&limit=500&offset=1000');
    expect(waiting.total).to.equal(SCALE.waiting(N));
    expect(waiting.devices).to.have.length(500);
    expect(waiting.devices.every((x: any) => x.licenseState === 'waiting' && x.waitingSince)).to.equal(true);
    expect((await get('/devices?state=licensed')).total).to.equal(N - SCALE.waiting(N));
    expect((await get('/devices?vendor=unify')).total).to.equal(SCALE.unify(N));
    expect((await get('/devices?vendor=unify&state=licensed')).total).to.equal(Math.floor(SCALE.unify(N) / 2));

    // A MAC prefix in any notation; a user name prefix.
    expect((await get('/devices?q=00:50:00:00:00')).total).to.equal(255);
    expect((await get('/devices?q=user00000')).devices.map((x: any) => x.userName)).to.deep.equal(range(1, 9).map(SCALE.userName));
    expect((await get(`/devices?user=${SCALE.userName(4711)}`)).devices.map((x: any) => x.mac)).to.deep.equal([SCALE.mac(4711)]);
    expect((await get('/devices?sort=lastSeen&order=desc&limit=1')).devices[0].mac).to.equal(SCALE.mac(N));

    const page = await d.request('GET', '/api/v1/devices?limit=500');
    expect(page.text).to.not.include('seeded-secret');
    expect(page.json.devices[0]).to.not.have.property('sipPassword');
    await refused('/devices?state=sleeping', 'state');
    expect(await refused('/devices?sort=model', 'sort')).to.include('lastSeen');

    // A vendor outside the vendor list (handed to the core at start) is refused, naming those it knows, and adds nothing.
    for (const r of [await d.request('GET', '/api/v1/devices?vendor=polycom'), await d.request('POST', '/api/v1/devices', { body: { mac: '0050ffff0099', vendor: 'polycom' } })]) {
      expect(r.status, r.text).to.equal(400);
      expect(r.json.error.code).to.equal('DEV_VENDOR_UNKNOWN');
      expect(r.json.error.message).to.include('"polycom"; known: cisco, unify, gigaset, yealink, snom.');
    }
    expect((await get('/devices')).total, 'nothing added').to.equal(N);
  });

  it('pages the per-user license table, with the counts of the whole table', async () => {
    const table = await get('/user-licenses');
    expect(table).to.include({ total: N + 1, limit: 50, offset: 0 });
    expect(table.users).to.have.length(50);
    expect(table.codes.find((c: any) => c.code === 'clientbundle')).to.include({ used: N, total: N + SCALE_ROOM });
    const one = await get(`/user-licenses?q=${SCALE.userName(777)}`);
    expect(one.total).to.equal(1);
    expect(one.users[0]).to.deep.include({ userName: SCALE.userName(777), licenses: { clientbundle: true, vap: true, voicemail: false } });
    expect((await get('/user-licenses?sort=lastName&order=desc&offset=1&limit=1')).users[0].userName, 'after Supervisor').to.equal(SCALE.userName(N));
  });

  it('pages the audit log newest first, by action and by text anywhere in an entry', async () => {
    const newest = await get('/audit');
    expect(newest.total).to.be.greaterThan(N);
    expect(newest.entries).to.have.length(50);
    expect(newest.entries[0].id).to.equal(newest.total);
    expect(newest.entries.map((e: any) => e.id)).to.deep.equal(range(newest.total - 49, newest.total).reverse());
    const oldest = await get(`/audit?order=asc&limit=1`);
    expect(oldest.entries[0].id).to.equal(1);
    const registered = await get('/audit?action=user.reg&limit=1');
    expect(registered.total).to.equal(N);
    expect(registered.entries[0].subject).to.equal(SCALE.userName(N));
    expect((await get(`/audit?before=${newest.total - 99}&limit=1`)).entries[0].id).to.equal(newest.total - 100);
    const found = await get(`/audit?q=${SCALE.userName(12345)}`);
    expect(found.total).to.equal(1);
    expect(found.entries[0].subject).to.equal(SCALE.userName(12345));
    expect((await get('/audit?q=batch "20')).total, 'a quote in the text is searched for, not parsed').to.equal(0);
    expect((await get('/audit?q=batch 20')).total).to.equal(5000);
    expect(await get('/audit/verify'), 'the whole chain, walked a page at a time').to.deep.equal({ ok: true, rows: newest.total });
  });

  it('pages live client sessions and provisioning outcomes', async () => {
    const users = [1, 2, 3].map(SCALE.userName);
    const sockets = await Promise.all(users.map(async (user) => ClientSocket.hello(d, { kind: 'desktop', user, token: await issueToken(d, user) })));
    try {
      const sessions = await get('/sessions?limit=2&sort=userName');
      expect(sessions).to.include({ total: 3, limit: 2, offset: 0 });
      expect(sessions.sessions.map((s: any) => s.userName)).to.deep.equal(users.slice(0, 2));
      expect((await get('/sessions?limit=2&offset=2&sort=userName')).sessions.map((s: any) => s.userName)).to.deep.equal(users.slice(2));
      await refused('/sessions?sort=from', 'sort');
    } finally {
      sockets.forEach((s) => s.ws.close());
    }

    const macs = [SCALE.mac(2), SCALE.mac(3), 'aabbccddeeff'];
    for (const mac of macs) await prov(d, `/SEP${mac.toUpperCase()}.cnf.xml`);
    const events = await get(`/provisioning/events?limit=2`);
    expect(events).to.include({ total: 3, limit: 2, offset: 0 });
    expect(events.events.map((e: any) => e.mac)).to.deep.equal([macs[2], macs[1]]);
    expect((await get(`/provisioning/events?mac=${macs[0]}`)).events.map((e: any) => e.outcome)).to.deep.equal(['served']);
    expect((await get(`/provisioning/events?outcome=unknown`)).events.map((e: any) => e.mac)).to.deep.equal([macs[2]]);
  });

  it('keeps the waiting queue in order at 100,000 phones, 50,000 of them waiting', async () => {
    const used = (await d.status()).codes.find((c: any) => c.code === 'devices.cisco').used;
    const license = scaleLicense(N);
    await d.installLicense({ ...license, quantities: { ...license.quantities, 'devices.cisco': used } }); // every license taken
    const waitingBefore = (await get('/devices?state=waiting&limit=1')).total;
    const newcomer = '0050ffff0001';
    expect((await d.request('POST', '/api/v1/devices', { body: { mac: newcomer, vendor: 'cisco', model: 'CP-8845' } })).status).to.equal(201);
    expect((await d.request('POST', `/api/v1/devices/${newcomer}/assign`, { body: { userName: SCALE.userName(5) } })).status).to.equal(200);
    const phone = (mac: string) => prov(d, `/SEP${mac.toUpperCase()}.cnf.xml`);
    expect((await phone(newcomer)).status, 'no license free').to.equal(403);
    expect((await get('/devices?state=waiting&limit=1')).total).to.equal(waitingBefore + 1);

    expect((await d.request('POST', `/api/v1/devices/${SCALE.mac(2)}/release`)).status).to.equal(200); // one license free
    expect((await phone(newcomer)).status, 'the newcomer may not jump the queue').to.equal(403);
    expect((await phone(SCALE.mac(7))).status, 'nor may the phone that waits seventh').to.equal(403);
    expect((await phone(SCALE.mac(1))).status, 'the phone waiting longest takes it').to.equal(200);
    expect((await get(`/devices?q=${SCALE.mac(1)}`)).devices[0].licenseState).to.equal('licensed');
    expect((await get('/devices?state=waiting&limit=1')).total).to.equal(waitingBefore);
  });

  it('streams a whole list through pbxctl page by page (--all)', async () => {
    const r = await d.ctl(['devices', 'list', '--vendor', 'unify', '--all', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).to.have.length(SCALE.unify(N));
    expect(new Set(lines.map((x) => x.mac)).size).to.equal(SCALE.unify(N));
    expect(lines.every((x) => x.vendor === 'unify')).to.equal(true);
    const page = await d.ctl(['users', 'list', '--limit', '5', '--offset', '10', '--sort', 'createdAt']);
    expect(page.code, page.stderr).to.equal(0);
    expect(page.stdout).to.include(`11–15 of ${N + 1} users`);
    expect(page.stdout.split('\n').filter((l) => l.startsWith('user0000'))).to.have.length(5);
    const text = await d.ctl(['users', 'list', '--q', 'user0001', '--all']);
    expect(text.stdout.trim().split('\n').filter((l) => l.startsWith('user0001'))).to.have.length(100);
    expect(text.stdout).to.match(/100 users\s*$/);
  });
});
