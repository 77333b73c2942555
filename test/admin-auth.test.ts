import { expect } from 'chai';
import sqlite3 from 'sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, BIN, TestDaemon } from './support/daemon.js';

function sql(file: string, statement: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, (e) => {
      if (e) return reject(e);
      db.exec(statement, (err) => {
        db.close();
        if (err) reject(err);
        else resolve();
      });
    });
  });
}

describe('admins, sessions and the audit log', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  beforeEach(async () => {
    d = await TestDaemon.start();
  });
  afterEach(async () => d.dispose());

  const login = (name: string, password: string) =>
    fetch(`${d.apiUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) });

  it('logs in with a session cookie (HttpOnly, SameSite) and requires the CSRF token for changes', async () => {
    const r = await login('admin', ADMIN_PASSWORD);
    expect(r.status).to.equal(200);
    const cookie = r.headers.get('set-cookie')!;
    expect(cookie).to.match(/pbxd_session=/).and.match(/HttpOnly/i).and.match(/SameSite=Strict/i);
    const { csrf } = (await r.json()) as { csrf: string };
    const session = cookie.split(';')[0]!;

    const status = await fetch(`${d.apiUrl}/api/v1/status`, { headers: { cookie: session } });
    expect(status.status).to.equal(200);
    const noCsrf = await fetch(`${d.apiUrl}/api/v1/users`, { method: 'POST', headers: { cookie: session, 'content-type': 'application/json' }, body: JSON.stringify({ userName: 'x' }) });
    expect(noCsrf.status).to.equal(403);
    expect(((await noCsrf.json()) as any).error.code).to.equal('CSRF_INVALID');
    const withCsrf = await fetch(`${d.apiUrl}/api/v1/users`, { method: 'POST', headers: { cookie: session, 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: JSON.stringify({ userName: 'x' }) });
    expect(withCsrf.status).to.equal(201);

    await fetch(`${d.apiUrl}/api/v1/auth/logout`, { method: 'POST', headers: { cookie: session, 'x-csrf-token': csrf } });
    expect((await fetch(`${d.apiUrl}/api/v1/status`, { headers: { cookie: session } })).status, 'a logged-out session is gone').to.equal(401);
  });

  it('sets admin passwords through pbxctl over the control socket, which only its owner may open', async () => {
    const mode = statSync(d.socketPath).mode & 0o777;
    expect(mode).to.equal(0o600);
    const r = await d.ctl(['admin', 'passwd', 'ops'], 'a-new-password-9\n');
    expect(r.code, r.stderr).to.equal(0);
    const session = (await login('ops', 'a-new-password-9')).headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${d.apiUrl}/api/v1/status`, { headers: { cookie: session } })).status).to.equal(200);
    expect((await d.ctl(['admin', 'passwd', 'ops'], 'another-password-10\n')).code).to.equal(0);
    expect((await fetch(`${d.apiUrl}/api/v1/status`, { headers: { cookie: session } })).status, 'a password change ends the sessions at once').to.equal(401);
    const short = await d.ctl(['admin', 'passwd', 'ops'], 'short\n');
    expect(short.code).to.equal(1);
    expect(short.stderr).to.contain('ADMIN_PASSWORD_WEAK').and.contain('at least 12 characters');
  });

  it('detects an edited or deleted audit row (pbxctl audit verify)', async () => {
    await d.installLicense();
    await d.request('POST', '/api/v1/users', { body: { userName: 'eve' } });
    let v = await d.ctl(['audit', 'verify', '--json']);
    expect(JSON.parse(v.stdout)).to.deep.include({ ok: true });

    await sql(join(d.dataDir, 'pbxd.db'), "UPDATE audit SET actor = 'someone-else' WHERE action = 'user.register'");
    v = await d.ctl(['audit', 'verify']);
    expect(v.code).to.equal(2);
    expect(v.stdout).to.match(/AUDIT LOG TAMPERED: row \d+ was altered/);
  });

  it('detects audit rows deleted at the end', async () => {
    await d.installLicense();
    await sql(join(d.dataDir, 'pbxd.db'), 'DELETE FROM audit WHERE id = (SELECT MAX(id) FROM audit)');
    const v = JSON.parse((await d.ctl(['audit', 'verify', '--json'])).stdout);
    expect(v).to.deep.include({ ok: false, problem: 'rows at the end were deleted', code: 'audit.broken.truncated' });
    expect(v.text.de).to.equal('Einträge am Ende wurden gelöscht');
  });

  it('issues bearer tokens for scripts; pbxctl works over HTTP with one', async () => {
    const created = await d.ctl(['token', 'create', '--label', 'monitoring', '--json']);
    const { token } = JSON.parse(created.stdout);
    const r = spawnSync(process.execPath, [BIN.pbxctl, 'status', '--json', '--url', d.apiUrl, '--token', token], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout).systemId).to.equal(d.systemId);
    const bad = spawnSync(process.execPath, [BIN.pbxctl, 'status', '--url', d.apiUrl, '--token', 'not-a-token'], { encoding: 'utf8' });
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.contain('AUTH_REQUIRED');
    expect(d.output.join('\n')).to.not.contain(token);
  });

  it('serves an OpenAPI document describing the API', async () => {
    const r = await d.request('GET', '/api/v1/openapi.json', { auth: false });
    expect(r.json.openapi).to.equal('3.1.0');
    expect(Object.keys(r.json.paths)).to.include.members(['/status', '/license', '/license/stage', '/users', '/user-licenses', '/audit']);
  });
});

describe('configuration', () => {
  it('refuses to start on an invalid config, listing every problem, with exit code 78', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbxd-cfg-'));
    const file = join(dir, 'pbxd.json');
    writeFileSync(file, JSON.stringify({ dataDir: dir, http: { port: 'eighty' }, license: { graceDays: -1 }, bogus: 1 }));
    const r = spawnSync(process.execPath, [BIN.pbxd, '--config', file], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).to.equal(78);
    expect(r.stderr).to.contain('http.port: must be a port number').and.contain('license.graceDays').and.contain('bogus: unknown setting');
  });

  it('takes environment overrides over the file', async () => {
    const d = await TestDaemon.start({ env: { PBXD_LICENSE_GRACE_DAYS: '3' } });
    try {
      const now = Date.now();
      await d.installLicense({ expiresAt: new Date(now + 86400_000).toISOString().replace(/\.\d+Z/, 'Z') });
      await d.setClock(new Date(now + 2 * 86400_000));
      expect((await d.status()).graceDaysLeft).to.equal(2);
      expect(readFileSync(d.configFile, 'utf8')).to.not.contain('graceDays');
    } finally {
      await d.dispose();
    }
  });
});
