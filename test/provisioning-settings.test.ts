import { expect } from 'chai';
import forge from 'node-forge';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { BIN, ROOT, TestDaemon, sleep } from './support/daemon.js';
import { ConfigError, loadConfig } from '../daemon/config.js';
import { addUser, assign, phoneRequest, prov, unifyItems, workpoint } from './support/provisioning.js';

/** A certificate of the admin's own (self-signed here), for localhost. */
function ownCertificate(): { cert: string; key: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const c = forge.pki.createCertificate();
  c.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  c.serialNumber = '0a1b2c';
  c.validity.notBefore = new Date(Date.now() - 3600_000);
  c.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600_000);
  const subject = [{ name: 'commonName', value: 'localhost' }, { name: 'organizationName', value: 'Customer IT' }];
  c.setSubject(subject);
  c.setIssuer(subject);
  c.setExtensions([{ name: 'basicConstraints', cA: true }, { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }]);
  c.sign(key, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(c), key: keyPem };
}

describe('provisioning: certificate and settings', function () {
  it('creates its own CA and server certificate at first start, keys readable only by pbxd', async () => {
    const d = await TestDaemon.start();
    try {
      for (const f of ['ca.key', 'server.key']) expect(statSync(join(d.dataDir, 'tls', f)).mode & 0o777, f).to.equal(0o600);
      const ca = forge.pki.certificateFromPem(readFileSync(join(d.dataDir, 'tls', 'ca.crt'), 'utf8'));
      const server = forge.pki.certificateFromPem(readFileSync(join(d.dataDir, 'tls', 'server.crt'), 'utf8'));
      expect(ca.verify(server)).to.equal(true);
      const san = server.getExtension('subjectAltName') as { altNames: Array<{ value?: string }> };
      expect(san.altNames.map((n) => n.value)).to.include('localhost');
    } finally {
      await d.dispose();
    }
  });

  it("uses the admin's own server.crt/server.key when they are in the tls folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbxd-test-'));
    const own = ownCertificate();
    mkdirSync(join(dir, 'tls'));
    writeFileSync(join(dir, 'tls', 'server.crt'), own.cert);
    writeFileSync(join(dir, 'tls', 'server.key'), own.key, { mode: 0o600 });
    const d = await TestDaemon.start({ dataDir: dir });
    try {
      const body = workpoint('C0FFEE', 'start-up', unifyItems('001AE8ABCDEF'));
      const r = await phoneRequest(d.listeners.wpi!, { method: 'POST', path: '/DeploymentService/LoginService', headers: { 'content-type': 'text/xml' }, body, tls: { ca: own.cert } });
      expect(r.status).to.equal(200);
      expect(readFileSync(join(dir, 'tls', 'server.crt'), 'utf8')).to.equal(own.cert);
    } finally {
      await d.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("follows the user: a renamed user's phone shows the new name, a deleted user's phone is released", async () => {
    const d = await TestDaemon.start();
    try {
      await d.installLicense({ quantities: { users: 5, 'devices.cisco': 1 } });
      await addUser(d, 'paula', 'Paula', 'Alt');
      await prov(d, '/SEP00562B0436F6.cnf.xml');
      await assign(d, '00562B0436F6', 'paula');
      expect((await prov(d, '/SEP00562B0436F6.cnf.xml')).text).to.include('<displayName>Paula Alt</displayName>');
      expect((await d.request('PATCH', '/api/v1/users/paula', { body: { lastName: 'Neu' } })).status).to.equal(200);
      let text = '';
      for (let i = 0; i < 30 && !text.includes('Paula Neu'); i++) {
        await sleep(100);
        text = (await prov(d, '/SEP00562B0436F6.cnf.xml')).text;
      }
      expect(text).to.include('<displayName>Paula Neu</displayName>');
      expect((await d.request('DELETE', '/api/v1/users/paula')).status).to.be.oneOf([200, 204]);
      let status = 200;
      for (let i = 0; i < 30 && status === 200; i++) {
        await sleep(100);
        status = (await prov(d, '/SEP00562B0436F6.cnf.xml')).status;
      }
      expect(status).to.equal(404);
      expect((await d.status()).codes.find((c: any) => c.code === 'devices.cisco').used).to.equal(0);
    } finally {
      await d.dispose();
    }
  });

  it('renders configurations again when the registrar changes on reload (SIGHUP)', async () => {
    const d = await TestDaemon.start({ config: { provisioning: { host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0, sipRegistrar: 'old.example.test' } } });
    try {
      await d.installLicense({ quantities: { users: 5, 'devices.cisco': 1 } });
      await addUser(d, 'olga');
      await prov(d, '/SEP00562B0436E5.cnf.xml');
      await assign(d, '00562B0436E5', 'olga');
      expect((await prov(d, '/SEP00562B0436E5.cnf.xml')).text).to.include('<processNodeName>old.example.test</processNodeName>');
      const cfg = JSON.parse(readFileSync(d.configFile, 'utf8'));
      cfg.provisioning.sipRegistrar = 'new.example.test';
      writeFileSync(d.configFile, JSON.stringify(cfg));
      process.kill(d.pid, 'SIGHUP');
      let text = '';
      for (let i = 0; i < 50 && !text.includes('new.example.test'); i++) {
        await sleep(100);
        text = (await prov(d, '/SEP00562B0436E5.cnf.xml')).text;
      }
      expect(text).to.include('<processNodeName>new.example.test</processNodeName>');
    } finally {
      await d.dispose();
    }
  });
});

describe('provisioning: the registrar phones are told', function () {
  this.timeout(20_000);
  const start = (provisioning: Record<string, unknown>) => {
    const dir = mkdtempSync(join(tmpdir(), 'pbxd-registrar-'));
    const file = join(dir, 'pbxd.json');
    writeFileSync(file, JSON.stringify({ dataDir: dir, http: { host: '127.0.0.1', port: 0 }, provisioning: { httpPort: 0, httpsPort: 0, wpiPort: 0, ...provisioning } }));
    return new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN.pbxd, '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('exit', (code) => (rmSync(dir, { recursive: true, force: true }), resolve({ code, stderr })));
    });
  };

  it('refuses to start, loudly, when phones on the LAN would be told to register at localhost', async () => {
    for (const p of [{ host: '0.0.0.0' }, { host: '0.0.0.0', sipRegistrar: '127.0.1.1' }, { host: '0.0.0.0', hostnames: ['localhost'], sipRegistrar: '' }]) {
      const r = await start(p);
      expect(r.code, JSON.stringify(p)).to.equal(78);
      expect(r.stderr).to.match(/provisioning\.sipRegistrar: phones would be told to register at "(localhost|127\.0\.1\.1)"/).and.include('--address');
    }
  });

  it('ships an appliance config that names no registrar: install.sh --address (or detection) must set one', () => {
    const shipped = join(ROOT, 'systemd', 'pbxd.json');
    expect(() => loadConfig({ file: shipped, env: {} })).to.throw(ConfigError, /provisioning\.sipRegistrar: phones would be told to register at "0\.0\.0\.0"/);
    const dir = mkdtempSync(join(tmpdir(), 'pbxd-shipped-'));
    const set = join(dir, 'pbxd.json');
    const c = JSON.parse(readFileSync(shipped, 'utf8'));
    c.provisioning = { ...c.provisioning, sipRegistrar: '192.0.2.10', hostnames: ['192.0.2.10'] }; // what install.sh writes
    writeFileSync(set, JSON.stringify(c));
    expect(loadConfig({ file: set, env: {} }).config.provisioning.sipRegistrar).to.equal('192.0.2.10');
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a time zone that is not an IANA name', async () => {
    const r = await start({ host: '127.0.0.1', timeZone: 'CET-1CEST' });
    expect(r.code).to.equal(78);
    expect(r.stderr).to.include('provisioning.timeZone: "CET-1CEST" is not an IANA time zone');
  });
});
