import { expect } from 'chai';
import { ADMIN_PASSWORD, DAY, TestDaemon } from './support/daemon.js';
import { eventually } from './support/resources.js';

describe('admin management: policy, re-authentication, last admin, tokens', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  beforeEach(async () => {
    d = await TestDaemon.start();
  });
  afterEach(async () => d.dispose());

  const STRONG = 'correct horse battery staple';

  it('refuses weak passwords with the reason, and changes nothing', async () => {
    for (const [pw, reason] of [
      ['password', 'at least 12 characters'],
      ['12345678', 'at least 12 characters'],
      ['        ', 'at least 12 characters'],
      ['            ', 'besides leading and trailing blanks'],
      ['password1234', 'a common password'],
      ['Passwort2026!', 'a common password'],
      ['123456789012', 'a common password'],
      ['aaaaaaaaaaaaaaa', 'too few different characters'],
      ['abcdeabcdeabcde', 'a repeated pattern'],
    ] as const) {
      const r = await d.request('POST', '/api/v1/admins', { body: { name: 'ops', password: pw, currentPassword: ADMIN_PASSWORD } });
      expect(r.status, pw).to.equal(422);
      expect(r.json.error.code).to.equal('ADMIN_PASSWORD_WEAK');
      expect(r.json.error.message, pw).to.contain(reason);
    }
    expect((await d.request('GET', '/api/v1/admins')).json.admins.map((a: { name: string }) => a.name)).to.deep.equal(['admin']);
    expect((await d.request('POST', '/api/v1/admins', { body: { name: 'ops', password: STRONG, currentPassword: ADMIN_PASSWORD } })).status).to.equal(201);
  });

  it('needs the current password for password and admin changes (not from the local CLI)', async () => {
    const noAuth = await d.request('PUT', '/api/v1/admins/admin/password', { body: { password: STRONG } });
    expect(noAuth.status).to.equal(403);
    expect(noAuth.json.error.code).to.equal('ADMIN_REAUTH_REQUIRED');
    const wrong = await d.request('POST', '/api/v1/admins', { body: { name: 'ops', password: STRONG, currentPassword: 'not-my-password' } });
    expect(wrong.json.error.code).to.equal('ADMIN_REAUTH_FAILED');
    expect((await d.request('GET', '/api/v1/admins')).json.total, 'nothing created').to.equal(1);
    // pbxctl on the appliance (control socket) is root's: no password asked.
    const ctl = await d.ctl(['admin', 'add', 'ops'], `${STRONG}\n`);
    expect(ctl.code, ctl.stderr).to.equal(0);
    expect((await d.request('GET', '/api/v1/admins')).json.total).to.equal(2);
  });

  it('disables and deletes admins, but never the last active one', async () => {
    expect((await d.ctl(['admin', 'add', 'ops'], `${STRONG}\n`)).code).to.equal(0);
    const opsLogin = await d.request('POST', '/api/v1/auth/login', { auth: false, body: { name: 'ops', password: STRONG, token: true } });
    const opsToken = opsLogin.json.token as string;
    const asOps = (method: string, path: string, body?: unknown) => d.request(method, path, { auth: false, body, headers: { authorization: `Bearer ${opsToken}` } });
    expect((await asOps('GET', '/api/v1/status')).status).to.equal(200);

    const disable = await d.request('PATCH', '/api/v1/admins/ops', { body: { disabled: true, currentPassword: ADMIN_PASSWORD } });
    expect(disable.status, disable.text).to.equal(200);
    expect((await asOps('GET', '/api/v1/status')).status, 'its tokens end at once').to.equal(401);
    const disabledLogin = await d.request('POST', '/api/v1/auth/login', { auth: false, body: { name: 'ops', password: STRONG } });
    expect(disabledLogin.json.error.code, 'a disabled admin cannot log in').to.equal('AUTH_INVALID');
    expect((await d.request('GET', '/api/v1/admins')).json.admins.find((a: { name: string }) => a.name === 'ops').disabled).to.equal(true);

    const last = await d.request('DELETE', '/api/v1/admins/admin', { body: { currentPassword: ADMIN_PASSWORD } });
    expect(last.status).to.equal(409);
    expect(last.json.error.code).to.equal('ADMIN_LAST');
    expect((await d.request('PATCH', '/api/v1/admins/admin', { body: { disabled: true, currentPassword: ADMIN_PASSWORD } })).json.error.code).to.equal('ADMIN_LAST');
    expect((await d.ctl(['admin', 'delete', 'admin'])).stderr).to.contain('ADMIN_LAST');

    expect((await d.request('DELETE', '/api/v1/admins/ops', { body: { currentPassword: ADMIN_PASSWORD } })).status).to.equal(200);
    expect((await d.request('GET', '/api/v1/admins')).json.admins.map((a: { name: string }) => a.name)).to.deep.equal(['admin']);
    const actions = (await d.request('GET', '/api/v1/audit?action=admin.')).json.entries.map((e: { action: string; subject: string }) => `${e.action} ${e.subject}`);
    expect(actions).to.include.members(['admin.create ops', 'admin.disable ops', 'admin.delete ops', 'admin.login ops']);
  });

  it('issues API tokens with a label and an expiry, shows last use, revokes them, and refuses an expired one', async () => {
    const made = await d.request('POST', '/api/v1/tokens', { body: { label: 'monitoring', expiresInDays: 2 } });
    expect(made.status, made.text).to.equal(201);
    const short = made.json.token as string;
    const dflt = (await d.request('POST', '/api/v1/tokens', { body: { label: 'backup script' } })).json;
    expect(Date.parse(dflt.expiresAt) - Date.now(), 'default: 90 days').to.be.within(89 * DAY, 90 * DAY + 60_000);
    const use = (t: string) => d.request('GET', '/api/v1/status', { auth: false, headers: { authorization: `Bearer ${t}` } });
    expect((await use(short)).status).to.equal(200);

    // The last use is recorded after the answer, off the request's path.
    const list = await eventually(async () => {
      const tokens = (await d.request('GET', '/api/v1/tokens')).json.tokens as Array<{ id: number; label: string; lastUsedAt: string | null; expiresAt: string }>;
      expect(tokens.find((x) => x.label === 'monitoring')!.lastUsedAt, 'last use recorded').to.be.a('string');
      return tokens;
    });
    expect(JSON.stringify(list)).to.not.contain(short);

    await d.setClock(new Date(Date.now() + 3 * DAY));
    const expired = await use(short);
    expect(expired.status, 'an expired token is refused').to.equal(401);
    expect(expired.json.error.code).to.equal('AUTH_REQUIRED');
    expect((await use(dflt.token)).status).to.equal(200);

    expect((await d.request('DELETE', `/api/v1/tokens/${dflt.id}`)).status).to.equal(200);
    expect((await use(dflt.token)).status, 'a revoked token is refused at once').to.equal(401);
    const audit = (await d.request('GET', '/api/v1/audit?action=admin.token')).json.entries.map((e: { action: string; details: { label: string } }) => `${e.action} ${e.details.label}`);
    expect(audit).to.include.members(['admin.token.create monitoring', 'admin.token.create backup script', 'admin.token.revoke backup script']);
  });
});
