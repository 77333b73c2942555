import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_PASSWORD, ROOT, TestDaemon } from './support/daemon.js';
import { requestFrom } from './support/admin-plane.js';

/** The appliance configuration as installed (systemd/pbxd.json), on ephemeral loopback ports for the test. */
function applianceConfig(): Record<string, any> {
  const c = JSON.parse(readFileSync(join(ROOT, 'systemd', 'pbxd.json'), 'utf8'));
  delete c.dataDir;
  return {
    ...c,
    http: { ...c.http, host: '127.0.0.1', port: 0, redirectPort: 0 },
    provisioning: { ...c.provisioning, host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0 },
    admin: { ...c.admin, initialPassword: ADMIN_PASSWORD },
  };
}

describe('HTTPS admin plane (appliance configuration)', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  let ca: string;
  before(async () => {
    d = await TestDaemon.start({ config: applianceConfig() });
    ca = readFileSync(join(d.dataDir, 'tls', 'ca.crt'), 'utf8');
  });
  after(async () => d.dispose());

  const https = () => `https://${d.listeners.api}`;

  it('serves the UI and API over HTTPS with the appliance CA, with HSTS and a Secure session cookie', async () => {
    const login = await requestFrom(`${https()}/api/v1/auth/login`, { method: 'POST', ca, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'admin', password: ADMIN_PASSWORD }) });
    expect(login.status, login.text).to.equal(200);
    expect(login.headers['strict-transport-security']).to.equal('max-age=31536000');
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).to.match(/pbxd_session=/).and.match(/;\s*Secure/i).and.match(/HttpOnly/i).and.match(/SameSite=Strict/i);
    const page = await requestFrom(`${https()}/`, { ca });
    expect(page.status).to.equal(200);
    expect(page.text).to.match(/<html/i);
    expect(page.headers['strict-transport-security']).to.equal('max-age=31536000');
    // Plain HTTP on the TLS port gets no answer a browser would use.
    await requestFrom(`http://${d.listeners.api}/api/v1/status`).then(
      (r) => expect(r.status).to.equal(400),
      (e) => expect(String(e)).to.match(/socket hang up|ECONNRESET|parse/i),
    );
  });

  it('redirects plain HTTP to HTTPS on the same host and path, and not to foreign hosts', async () => {
    const port = d.listeners.api!.split(':').pop();
    const r = await requestFrom(`http://${d.listeners.api_redirect}/api/v1/status?x=1`, { headers: { host: `localhost:${d.listeners.api_redirect!.split(':').pop()}` } });
    expect(r.status).to.equal(308);
    expect(r.headers.location).to.equal(`https://localhost:${port}/api/v1/status?x=1`);
    const foreign = await requestFrom(`http://${d.listeners.api_redirect}/`, { headers: { host: 'evil.example' } });
    expect(foreign.status).to.equal(421);
    expect(foreign.headers.location).to.equal(undefined);
  });
});

describe('behind a local reverse proxy (http.trustProxy)', function () {
  this.timeout(60_000);

  it('marks cookies Secure and sends HSTS only when a trusted proxy says the request came over HTTPS', async () => {
    const login = (d: TestDaemon) =>
      requestFrom(`${d.apiUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https', 'x-forwarded-for': '192.0.2.7' }, body: JSON.stringify({ name: 'admin', password: ADMIN_PASSWORD }) });
    const untrusted = await TestDaemon.start();
    try {
      const r = await login(untrusted);
      expect(String(r.headers['set-cookie'])).to.not.match(/Secure/i);
      expect(r.headers['strict-transport-security']).to.equal(undefined);
    } finally {
      await untrusted.dispose();
    }
    const proxied = await TestDaemon.start({ config: { http: { host: '127.0.0.1', port: 0, trustProxy: 'loopback' } } });
    try {
      const r = await login(proxied);
      expect(String(r.headers['set-cookie'])).to.match(/;\s*Secure/i);
      expect(r.headers['strict-transport-security']).to.equal('max-age=31536000');
      const audit = (await proxied.request('GET', '/api/v1/audit?action=admin.login&limit=5')).json.entries;
      expect(audit.map((e: { details: { from: string } }) => e.details.from), 'the client address is the forwarded one').to.include('192.0.2.7');
    } finally {
      await proxied.dispose();
    }
  });
});
