import { expect } from 'chai';
import { ADMIN_PASSWORD, TestDaemon } from './support/daemon.js';
import { createLogger } from '../daemon/kernel/log.js';

/** The base64 lines of the license's signature block: the part that must never reach a log. */
function signatureLines(license: string): string[] {
  const m = /-----BEGIN PBXD LICENSE SIGNATURE-----\n([\s\S]*?)\n-----END PBXD LICENSE SIGNATURE-----/.exec(license);
  if (!m) throw new Error('no signature block');
  return m[1]!.split('\n').filter((l) => l.length >= 16);
}

describe('no secret in the log', function () {
  it('never writes passwords, tokens, CSRF tokens or a license signature, even at debug level', async () => {
    const d = await TestDaemon.start({ config: { log: { level: 'debug' } } });
    const secrets: string[] = [ADMIN_PASSWORD];
    try {
      secrets.push(await d.adminToken());
      const session = await d.request('POST', '/api/v1/auth/login', { auth: false, body: { name: 'admin', password: ADMIN_PASSWORD } });
      secrets.push(session.json.csrf, /pbxd_session=([^;]+)/.exec(session.headers.get('set-cookie') ?? '')![1]!);
      const wrong = 'Wrong-Password-123';
      secrets.push(wrong);
      expect((await d.request('POST', '/api/v1/auth/login', { auth: false, body: { name: 'admin', password: wrong } })).status).to.equal(401);
      // a bad bearer token is as secret as a good one (it may be an old or mistyped real one)
      secrets.push('sup3rSecretBadTokenValue0123456789abcdefXYZ');
      await d.request('GET', '/api/v1/status', { auth: false, headers: { authorization: `Bearer ${secrets.at(-1)}` } });

      const token = await d.request('POST', '/api/v1/tokens', { body: { label: 'backup script' } });
      expect(token.status).to.equal(201);
      secrets.push(token.json.token);
      const ctlToken = await d.ctl(['token', 'create', '--admin', 'admin', '--label', 'cli', '--json']);
      expect(ctlToken.code, ctlToken.stderr).to.equal(0);
      secrets.push(JSON.parse(ctlToken.stdout).token);

      const license = d.license({ edition: 'Enterprise' });
      secrets.push(...signatureLines(license));
      expect((await d.request('POST', '/api/v1/license', { raw: license })).status).to.equal(200);
      // a tampered file is refused; its signature must not be quoted in the refusal's log line either
      const tampered = license.replace(/Enterprise/, 'Enterprisf');
      await d.request('POST', '/api/v1/license', { raw: tampered });

      const newPassword = 'N3w-admin-password!';
      secrets.push(newPassword);
      expect((await d.request('PUT', '/api/v1/admins/admin/password', { body: { password: newPassword, currentPassword: ADMIN_PASSWORD } })).status).to.equal(200);
      expect((await d.request('POST', '/api/v1/auth/login', { auth: false, body: { name: 'admin', password: newPassword, token: true } })).status).to.equal(200);
    } finally {
      await d.dispose();
    }
    expect(d.output.some((l) => l.startsWith('<7>http request')), 'debug lines were written').to.equal(true);
    for (const line of d.output) for (const s of secrets) expect(line, `a secret in: ${line}`).to.not.contain(s);
  });
});

describe('log redaction', function () {
  const capture = () => {
    const lines: string[] = [];
    return { lines, log: createLogger('debug', (l) => lines.push(l)) };
  };

  it('redacts fields named like secrets at any depth', () => {
    const { lines, log } = capture();
    log.info('x', { user: 'anna', body: { password: 'hunter22', nested: [{ sipSecret: 'abc' }] }, Authorization: 'Basic Zm9vOmJhcg==' });
    expect(lines[0]).to.equal('<6>x user=anna body={"password":"[redacted]","nested":[{"sipSecret":"[redacted]"}]} Authorization="[redacted]"');
  });

  it('redacts PEM blocks, bearer credentials and random tokens inside values, but not hashes or paths', () => {
    const { lines, log } = capture();
    const token = 'q3Vx9ZbT0fK2mLw7RsYc1NhEoPjA5uGdXiW8tBzHnMe';
    log.error('request failed', {
      error: `Error: cannot parse -----BEGIN PBXD LICENSE SIGNATURE-----\nAbCd\n-----END PBXD LICENSE SIGNATURE----- after Bearer abc.def and ${token}`,
      hash: 'a'.repeat(20) + '0123456789abcdef0123456789abcdef0123',
      file: '/var/lib/pbxd/backups/pbxd-2026-11-26T04-00-00Z.db',
    });
    expect(lines[0]).to.not.contain('AbCd');
    expect(lines[0]).to.not.contain(token);
    expect(lines[0]).to.not.contain('abc.def');
    expect(lines[0]).to.contain('[redacted PBXD LICENSE SIGNATURE]');
    expect(lines[0]).to.contain('0123456789abcdef0123456789abcdef0123');
    expect(lines[0]).to.contain('file=/var/lib/pbxd/backups/pbxd-2026-11-26T04-00-00Z.db');
  });
});
