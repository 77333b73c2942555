import { expect } from 'chai';
import { ADMIN_PASSWORD, TestDaemon } from './support/daemon.js';
import { loginFrom, metricValue, requestFrom } from './support/admin-plane.js';

describe('login throttling that cannot lock the admin out', function () {
  this.timeout(120_000);
  let d: TestDaemon;
  beforeEach(async () => {
    d = await TestDaemon.start();
  });
  afterEach(async () => d.dispose());

  const addresses = (first: number, n: number) => Array.from({ length: n }, (_, i) => `127.0.0.${first + i}`);

  it('1,000 wrong passwords for admin from 20 addresses do not stop the right password from a fresh address', async () => {
    const statuses = new Map<number, number>();
    await Promise.all(
      addresses(2, 20).map(async (from) => {
        for (let i = 0; i < 50; i++) {
          const r = await loginFrom(d.apiUrl, from, 'admin', `guess-${from}-${i}`);
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        }
      }),
    );
    expect([...statuses.keys()].sort()).to.deep.equal([401, 429]);
    // Each address had its first try; after that the account's and the addresses' delays held them off.
    expect(statuses.get(401), 'passwords actually checked').to.be.lessThan(60);

    const fresh = await loginFrom(d.apiUrl, '127.0.0.30', 'admin', ADMIN_PASSWORD);
    expect(fresh.status, fresh.text).to.equal(200);
  });

  it('slows one address down after five failures and tells it how long to wait; never logs a password', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await loginFrom(d.apiUrl, '127.0.0.2', 'admin', 'wrong-password-' + i)).status);
    expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429]);
    const limited = await loginFrom(d.apiUrl, '127.0.0.2', 'admin', ADMIN_PASSWORD);
    expect(limited.status).to.equal(429);
    expect(limited.json.error.code).to.equal('AUTH_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).to.be.within(1, 2);
    expect((await loginFrom(d.apiUrl, '127.0.0.3', 'admin', ADMIN_PASSWORD)).status, 'another address logs in').to.equal(200);
    expect(d.output.join('\n')).to.not.contain('wrong-password').and.not.contain(ADMIN_PASSWORD);
  });

  it('keeps no entry per user name: 2,000 failed logins with distinct names leave a bounded state and a few log lines', async () => {
    const before = d.output.length;
    await Promise.all(
      addresses(2, 20).map(async (from) => {
        for (let i = 0; i < 100; i++) await loginFrom(d.apiUrl, from, `nobody-${from}-${i}`, 'whatever-password');
      }),
    );
    const metrics = (await requestFrom(`${d.apiUrl}/metrics`)).text;
    expect(metricValue(metrics, 'pbxd_login_throttle_entries', 'kind="account"'), 'unknown names are not remembered').to.equal(0);
    expect(metricValue(metrics, 'pbxd_login_throttle_entries', 'kind="source"')).to.equal(20);
    // Logged one by one only up to 10 a minute; the rest in a summary line.
    const lines = d.output.slice(before).filter((l) => /admin login/.test(l));
    expect(lines.length, lines.slice(0, 20).join('\n')).to.be.at.most(10 * 3);
    expect(d.output.slice(before).filter((l) => /request refused/.test(l) && /auth\/login/.test(l)), 'no line per refused login').to.deep.equal([]);
  });

  it('records logins and failures in the audit log, and takes the client address from a trusted proxy only', async () => {
    await loginFrom(d.apiUrl, '127.0.0.2', 'admin', 'not-the-password');
    await loginFrom(d.apiUrl, '127.0.0.3', 'admin', ADMIN_PASSWORD);
    const audit = (await d.request('GET', '/api/v1/audit?action=admin.login')).json.entries as Array<{ action: string; details: { from: string } }>;
    expect(audit.map((e) => [e.action, e.details.from]).filter(([, f]) => f !== '127.0.0.1')).to.deep.include.members([
      ['admin.login.failed', '127.0.0.2'],
      ['admin.login', '127.0.0.3'],
    ]);
    // Without http.trustProxy, X-Forwarded-For is a header like any other.
    await requestFrom(`${d.apiUrl}/api/v1/auth/login`, { method: 'POST', from: '127.0.0.4', headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.9.9.9' }, body: JSON.stringify({ name: 'admin', password: 'nope-nope-nope' }) });
    const last = (await d.request('GET', '/api/v1/audit?action=admin.login.failed&limit=1')).json.entries[0];
    expect(last.details.from).to.equal('127.0.0.4');
  });
});
