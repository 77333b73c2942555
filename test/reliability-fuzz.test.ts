import { expect } from 'chai';
import { TestDaemon } from './support/daemon.js';
import { mulberry32, pick, queryDb, seedOf } from './support/reliability.js';
import { hostileRequest, rawExchange } from './support/fuzz.js';
import { issueLicense } from '../tools/license-issuer.js';
import { addDevice, assign } from './support/provisioning.js';

// REL_FUZZ_REQUESTS=<n> explores further by hand; npm test keeps it bounded.
const REQUESTS = Number(process.env.REL_FUZZ_REQUESTS ?? 1500);
const CONCURRENCY = 8;

/** Every admin API route, with :params for hostile segments. */
const API = [
  '/api/v1/status', '/api/v1/license', '/api/v1/license/stage', '/api/v1/license/staged', '/api/v1/license/activate',
  '/api/v1/users', '/api/v1/users/:name', '/api/v1/users/import', '/api/v1/users/approve',
  '/api/v1/tenants', '/api/v1/tenants/:name', '/api/v1/user-licenses',
  '/api/v1/audit', '/api/v1/audit/verify', '/api/v1/auth/login', '/api/v1/auth/me',
  '/api/v1/openapi.json', '/api/v1/refusals', '/healthz', '/readyz', '/metrics',
  '/api/v1/jobs', '/api/v1/jobs/:name/run', '/api/v1/usage/report',
  '/api/v1/auto-attendants', '/api/v1/auto-attendants/:name', '/api/v1/auto-attendants/evaluate', '/api/v1/sip-trunks', '/api/v1/sip-trunks/:name',
  // WebSocket endpoints on the same port: the client sessions and the UI's live channel.
  '/ws/client', '/ws/:name', '/socket.io/?EIO=4&transport=polling', '/socket.io/?EIO=:v&transport=websocket',
];
/**
 * Routes where any value (or none) is valid, so a request there changes something
 * by right: a password, a token label, a backup, a renewal check or request.
 * Hostile requests there go without a valid login and must be refused.
 */
const UNAUTHENTICATED_ONLY = ['/api/v1/admins', '/api/v1/admins/:name/password', '/api/v1/tokens', '/api/v1/auth/logout', '/api/v1/backups', '/api/v1/license/check', '/api/v1/license/request'];

/** Everything a failed request could have changed, read through the API and from the database file. */
async function snapshot(d: TestDaemon) {
  const { now: _now, ...status } = await d.status();
  const tables: Record<string, unknown> = {};
  for (const t of ['users', 'user_licenses', 'tenants', 'licenses', 'admins', 'admin_tokens', 'audit', 'meta', 'auto_attendants', 'sip_trunks'])
    tables[t] = (await queryDb<{ n: number }>(d.dataDir, `SELECT COUNT(*) AS n FROM ${t}`))[0]!.n;
  return {
    status,
    users: (await d.request('GET', '/api/v1/users?limit=10000')).json,
    userLicenses: (await d.request('GET', '/api/v1/user-licenses?limit=10000')).json,
    tenants: (await d.request('GET', '/api/v1/tenants')).json,
    admins: (await d.request('GET', '/api/v1/admins')).json,
    attendants: (await d.request('GET', '/api/v1/auto-attendants')).json,
    trunks: (await d.request('GET', '/api/v1/sip-trunks')).json,
    audit: (await d.request('GET', '/api/v1/audit/verify')).json,
    tables,
  };
}

describe('reliability: hostile input @slow', function () {
  this.timeout(90_000);
  const seed = seedOf('fuzz');
  let d: TestDaemon;
  afterEach(async () => d?.dispose());

  it(`survives ${REQUESTS} hostile requests to the admin API and license upload without a 5xx or a change (seed ${seed})`, async () => {
    d = await TestDaemon.start({ config: { log: { level: 'info' }, dev: { clockControl: false } } });
    await d.installLicense({ quantities: { users: 12, 'devices.cisco': 2, 'devices.unify': 2 }, perUser: { clientbundle: 5, vap: 1 } });
    await d.request('POST', '/api/v1/users/import', { body: { users: Array.from({ length: 12 }, (_, i) => ({ userName: `fz${i}`, firstName: 'F', lastName: `${i}`, extension: `${100 + i}` })) } });
    await d.request('PUT', '/api/v1/tenants/acme', { body: { seats: 2 } });
    await d.request('POST', '/api/v1/user-licenses', { body: { changes: ['fz1', 'fz2', 'fz3'].map((userName) => ({ userName, code: 'clientbundle', assigned: true })) } });
    const token = await d.adminToken();
    const before = await snapshot(d);
    const foreignLicense = issueLicense({ systemId: 'PBX-0000-0000-0000-0000' });

    const rnd = mulberry32(seed);
    const plan = Array.from({ length: REQUESTS }, () => {
      const restricted = rnd() < 0.08;
      const auth = restricted ? null : rnd() < 0.8 ? token : null;
      return hostileRequest(rnd, { templates: restricted ? UNAUTHENTICATED_ONLY : API, auth, foreignLicense, hostHeader: pick(rnd, ['127.0.0.1', 'evil.example', '']) });
    });
    const failures: string[] = [];
    const slow: string[] = [];
    const statuses = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < plan.length) {
          const i = next++;
          const req = plan[i]!;
          const t0 = performance.now();
          const reply = await rawExchange(d.listeners.api!, req.bytes, { endAfterWrite: req.endAfterWrite });
          if (performance.now() - t0 > 2000) slow.push(`#${i} ${req.describe} ${Math.round(performance.now() - t0)} ms → ${reply.head}`);
          const key = reply.status === null ? 'closed' : `${reply.status}`;
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          if (reply.status !== null && reply.status >= 500 && reply.status !== 503) failures.push(`#${i} ${req.describe} → ${reply.head}`);
        }
      }),
    );
    console.log(`      fuzz statuses (seed ${seed}): ${[...statuses].sort().map(([s, n]) => `${s}×${n}`).join(' ')}`);
    if (slow.length) console.log(`      slow answers:\n        ${slow.join('\n        ')}`);
    // The daemon's own account of each failure, so a red run says what broke.
    expect(failures, `server errors for client mistakes:\n${d.output.filter((l) => /request failed/.test(l)).slice(0, 10).map((l) => l.slice(0, 300)).join('\n')}`).to.deep.equal([]);
    expect((await d.request('GET', '/api/v1/status')).status, 'still answering').to.equal(200);
    const newAudit = await queryDb(d.dataDir, 'SELECT actor, action, subject FROM audit WHERE id > ?', [before.tables.audit as number]);
    expect(await snapshot(d), `data unchanged by refused requests; new audit entries: ${JSON.stringify(newAudit)}`).to.deep.equal(before);
    expect(d.output.filter((l) => /request failed|uncaught|unhandled/i.test(l)), 'no internal error in the log').to.deep.equal([]);
  });
});

/** What phones (and whoever poses as one) ask the provisioning ports, with :params for hostile segments. */
const PROVISIONING = [
  '/SEP:mac.cnf.xml', '/SEP:mac.cnf.xml.sgn', '/CTLSEP:mac.tlv', '/ITLSEP:mac.tlv', '/ITLFile.tlv', '/dialplan.xml', '/DistinctiveRingList.xml',
  '/:mac.cfg', '/:mac.xml', '/y000000000146.cfg', '/snom:model-:mac.htm', '/DeploymentService/LoginService', '/contact_dls.html/ContactDLS', '/:name',
];

describe('reliability: hostile input to the provisioning and WPI ports @slow', function () {
  this.timeout(90_000);
  const seed = seedOf('fuzz-provisioning');
  let d: TestDaemon;
  afterEach(async () => d?.dispose());

  it(`survives ${REQUESTS} hostile requests over HTTP, HTTPS and WPI without a 5xx or a change (seed ${seed})`, async () => {
    // The per-source limit on misses would answer most of the run with 429 before any parser sees it.
    const provisioning = { host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0, missesPerMinute: 1_000_000 };
    d = await TestDaemon.start({ config: { log: { level: 'info' }, dev: { clockControl: false }, provisioning } });
    await d.installLicense({ quantities: { users: 10, 'devices.cisco': 2, 'devices.unify': 2 }, perUser: {} });
    await d.request('POST', '/api/v1/users/import', { body: { users: [{ userName: 'desk1' }, { userName: 'desk2' }] } });
    await addDevice(d, '00562B000001', 'cisco', 'CP-8845');
    await assign(d, '00562B000001', 'desk1');
    await addDevice(d, '001A2B3C4D5E', 'unify', 'CP600');
    await assign(d, '001A2B3C4D5E', 'desk2');
    const deviceSnapshot = async () => ({
      devices: (await d.request('GET', '/api/v1/devices')).json.devices.map(({ lastSeen: _s, lastIp: _i, ...rest }: Record<string, unknown>) => rest),
      rows: (await queryDb<{ n: number }>(d.dataDir, 'SELECT COUNT(*) AS n FROM devices'))[0]!.n,
    });
    const before = { ...(await snapshot(d)), ...(await deviceSnapshot()) };
    const ports = [
      { address: d.listeners.provisioning_http!, tls: false },
      { address: d.listeners.provisioning_https!, tls: true },
      { address: d.listeners.wpi!, tls: true },
    ];
    const rnd = mulberry32(seed);
    const failures: string[] = [];
    const statuses = new Map<string, number>();
    const plan = Array.from({ length: REQUESTS }, () => ({ port: pick(rnd, ports), req: hostileRequest(rnd, { templates: PROVISIONING, auth: null, foreignLicense: '', hostHeader: pick(rnd, ['127.0.0.1', 'pbx.example', '']), xml: true }) }));
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < plan.length) {
          const i = next++;
          const { port, req } = plan[i]!;
          const reply = await rawExchange(port.address, req.bytes, { endAfterWrite: req.endAfterWrite, tls: port.tls });
          const key = reply.status === null ? 'closed' : `${reply.status}`;
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          if (reply.status !== null && reply.status >= 500 && reply.status !== 503) failures.push(`#${i} ${port.tls ? 'tls ' : ''}${req.describe} → ${reply.head}`);
        }
      }),
    );
    console.log(`      fuzz statuses (seed ${seed}): ${[...statuses].sort().map(([s, n]) => `${s}×${n}`).join(' ')}`);
    expect(failures, `server errors for client mistakes:\n${d.output.filter((l) => /<3>/.test(l)).slice(0, 10).map((l) => l.slice(0, 300)).join('\n')}`).to.deep.equal([]);
    expect((await d.request('GET', '/api/v1/status')).status, 'still answering').to.equal(200);
    expect({ ...(await snapshot(d)), ...(await deviceSnapshot()) }, 'data unchanged by refused requests').to.deep.equal(before);
    expect(d.output.filter((l) => /uncaught|unhandled/i.test(l)), 'no internal error in the log').to.deep.equal([]);
  });
});

describe('reliability: client mistakes the router and body parser catch @slow', function () {
  this.timeout(20_000);
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start({ config: { log: { level: 'warn' } } });
  });
  after(async () => d?.dispose());

  it('refuses a path that is not valid percent-encoding with 400 REQ_INVALID, not an internal error', async () => {
    const r = await d.request('DELETE', '/api/v1/users/%E0%A4%A');
    expect(r.status).to.equal(400);
    expect(r.json.error).to.include({ code: 'REQ_INVALID' });
    expect(r.json.error.details).to.deep.equal({ field: 'path', problem: 'not valid percent-encoding' });
  });

  it('refuses a body that does not inflate as its Content-Encoding says with 400 REQ_INVALID', async () => {
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const r = await d.request('POST', '/api/v1/users', { raw: '{"userName":"x"}', contentType: 'application/json', headers: { 'content-encoding': encoding } });
      expect(r.status, encoding).to.equal(400);
      expect(r.json.error.code).to.equal('REQ_INVALID');
    }
    expect((await d.request('GET', '/api/v1/users')).json.total, 'nothing registered').to.equal(1);
  });
});

describe('reliability: a directory sync that changes nothing @slow', function () {
  this.timeout(20_000);
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start({ config: { log: { level: 'warn' } } });
  });
  after(async () => d?.dispose());

  it('leaves no audit entry for an empty import or the same directory again', async () => {
    const users = [{ userName: 'sync1', lastName: 'One' }, { userName: 'sync2', lastName: 'Two' }];
    expect((await d.request('POST', '/api/v1/users/import', { body: { users } })).json.created).to.deep.equal(['sync1', 'sync2']);
    const rows = (await d.request('GET', '/api/v1/audit/verify')).json.rows;
    const empty = await d.request('POST', '/api/v1/users/import', { body: { users: [] } });
    expect(empty.status).to.equal(200);
    expect((await d.request('POST', '/api/v1/users/import', { body: { users } })).json).to.include({ unchanged: 2 });
    expect((await d.request('GET', '/api/v1/audit/verify')).json.rows, 'no new audit entry').to.equal(rows);
  });
});
