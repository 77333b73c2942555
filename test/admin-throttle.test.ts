import { expect } from 'chai';
import { ADMIN_PASSWORD, TestDaemon } from './support/daemon.js';
import { loginFrom, metricValue, requestFrom } from './support/admin-plane.js';
import { FORGET_MS, LoginThrottle, MAX_ADDRESSES, sourceKey } from '../daemon/core/login-throttle.js';

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

describe('the login throttle itself (its clock under the test’s control)', () => {
  const make = () => {
    let now = 1_000_000;
    const t = new LoginThrottle(() => ({ freeFailures: 5, maxDelaySeconds: 300 }), () => now);
    return { t, advance: (ms: number) => (now += ms) };
  };

  it('doubles the delay from 2 s up to the cap, and forgets after 15 quiet minutes', () => {
    const { t, advance } = make();
    const waits: number[] = [];
    for (let i = 0; i < 12; i++) {
      t.failed('192.0.2.1', 'admin');
      waits.push(t.wait('192.0.2.1', 'admin'));
      advance(waits[i]! * 1000);
    }
    expect(waits).to.deep.equal([0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128, 256]);
    t.failed('192.0.2.1', 'admin');
    expect(t.wait('192.0.2.1', 'admin')).to.equal(300);
    advance(FORGET_MS + 300_001);
    expect(t.wait('192.0.2.1', 'admin')).to.equal(0);
    expect(t.size).to.deep.equal({ sources: 0, accounts: 0 });
  });

  it('applies the account delay only to sources that failed themselves', () => {
    const { t } = make();
    for (let i = 0; i < 10; i++) t.failed(`192.0.2.${i + 1}`, 'admin');
    expect(t.wait('192.0.2.1', 'admin'), 'a guessing source waits for the account').to.be.greaterThan(0);
    expect(t.wait('198.51.100.7', 'admin'), 'a clean source does not').to.equal(0);
  });

  it('keeps at most MAX_ADDRESSES sources, and one per IPv6 /64', () => {
    const { t } = make();
    for (let i = 0; i < MAX_ADDRESSES + 5000; i++) t.failed(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, null);
    expect(t.size.sources).to.equal(MAX_ADDRESSES);
    expect(sourceKey('2001:db8:1:2:aaaa::1')).to.equal(sourceKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'));
    expect(sourceKey('2001:db8:1:2::1')).to.not.equal(sourceKey('2001:db8:1:3::1'));
    expect(sourceKey('::ffff:192.0.2.1')).to.equal('192.0.2.1');
  });
});
