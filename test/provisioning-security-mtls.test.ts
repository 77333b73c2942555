import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { TestDaemon } from './support/daemon.js';
import { addDevice, addUser, applianceCa, assign, dls, phoneRequest, sipPassword, unifyItems, workpoint, type PhoneReply } from './support/provisioning.js';

/**
 * Mutual TLS with a vendor's factory certificates: a CA of the test's own
 * stands in for the vendor's device CA. Once installed, that vendor's
 * credentials go only to a client whose certificate chains to it and names
 * the MAC asked for; other vendors' phones are not asked for one.
 */
interface Pair {
  cert: string;
  key: string;
  c: forge.pki.Certificate;
  k: forge.pki.rsa.PrivateKey;
}

function issue(cn: string, issuer: Pair | null, ca = false): Pair {
  const keys = forge.pki.rsa.generateKeyPair(1024);
  const c = forge.pki.createCertificate();
  c.publicKey = keys.publicKey;
  c.serialNumber = '01' + forge.util.bytesToHex(forge.random.getBytesSync(8));
  c.validity.notBefore = new Date(Date.now() - 86_400_000);
  c.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
  c.setSubject([{ name: 'commonName', value: cn }, { name: 'organizationName', value: 'Test vendor' }]);
  c.setIssuer(issuer ? issuer.c.subject.attributes : c.subject.attributes);
  c.setExtensions(ca ? [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, critical: true }] : [{ name: 'basicConstraints', cA: false }, { name: 'extKeyUsage', clientAuth: true }]);
  c.sign(issuer?.k ?? keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(c), key: forge.pki.privateKeyToPem(keys.privateKey), c, k: keys.privateKey };
}

describe('provisioning security: factory certificates (mutual TLS)', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  let ca = '';
  const vendorCa = issue('Test Yealink Device CA', null, true);
  const otherCa = issue('Someone else CA', null, true);
  const YEALINK = '805ec0123a11';
  const OTHER_YEALINK = '805ec0123a22';
  const UA = (mac: string) => `Yealink W70B 146.85.0.20 ${mac.match(/../g)!.join(':')}`;

  /** A phone's HTTPS request from 127.0.0.2, with its client certificate when it has one. */
  const ask = (o: { path: string; ua?: string; client?: Pair; method?: string; body?: string; headers?: Record<string, string>; port?: string }): Promise<PhoneReply> =>
    phoneRequest(o.port ?? d.listeners.provisioning_https!, {
      path: o.path, method: o.method ?? 'GET', body: o.body, from: '127.0.0.2', headers: { ...(o.ua ? { 'user-agent': o.ua } : {}), ...o.headers },
      tls: { ca, ...(o.client ? { cert: o.client.cert, key: o.client.key } : {}) },
    });

  before(async () => {
    d = await TestDaemon.start({ config: { provisioning: { host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0, requireKey: false, credentialsOverTls: true } } });
    await d.installLicense({ quantities: { users: 10, 'devices.unify': 2 } });
    for (const u of ['yara', 'yoko', 'ute', 'gil']) await addUser(d, u, u, 'Test');
    ca = applianceCa(d);
  });
  after(async () => d.dispose());

  it('refuses a file that is not a CA certificate, and an unknown vendor, changing nothing', async () => {
    const leaf = issue('805ec0123a11', vendorCa);
    const r = await d.request('PUT', '/api/v1/provisioning/vendor-cas/yealink', { body: { pem: leaf.cert } });
    expect(r.status).to.equal(400);
    expect(r.json.error.code).to.equal('PROVSEC_CA_INVALID');
    expect((await d.request('PUT', '/api/v1/provisioning/vendor-cas/acme', { body: { pem: vendorCa.cert } })).json.error.code).to.equal('PROVSEC_VENDOR_UNKNOWN');
    expect((await d.request('GET', '/api/v1/provisioning/vendor-cas')).json.vendorCas).to.deep.equal([]);
  });

  it('with the vendor CA installed (pbxctl), Yealink credentials go only to the phone with its own factory certificate', async () => {
    await addDevice(d, YEALINK, 'yealink', 'W70B');
    await assign(d, YEALINK, 'yara');
    await addDevice(d, OTHER_YEALINK, 'yealink', 'W70B');
    await assign(d, OTHER_YEALINK, 'yoko');
    const pw = await sipPassword(d, YEALINK);
    const file = join(d.dataDir, 'vendor-ca.pem');
    writeFileSync(file, vendorCa.cert);
    const installed = await d.ctl(['provisioning', 'vendor-ca', 'install', 'yealink', file]);
    expect(installed.code, installed.stderr).to.equal(0);

    const own = issue(YEALINK, vendorCa);
    const stolen = issue(OTHER_YEALINK, vendorCa); // another phone's certificate
    const forged = issue(YEALINK, otherCa);
    const path = `/${YEALINK}.cfg`;
    expect((await ask({ path, ua: UA(YEALINK), client: own })).text).to.include(pw);
    for (const [client, why] of [[undefined, 'no certificate'], [stolen, 'another phone\'s certificate'], [forged, 'a certificate from another CA']] as const) {
      const r = await ask({ path, ua: UA(YEALINK), ...(client ? { client } : {}) });
      expect(r.status, why).to.equal(403);
      expect(r.headers['x-pbxd-refusal'], why).to.equal('PROV_CLIENT_CERT');
      expect(r.text, why).to.not.include(pw);
    }
    const kinds = (await d.request('GET', '/api/v1/provisioning/alerts')).json.alerts.filter((a: any) => a.mac === YEALINK).map((a: any) => a.kind);
    expect(kinds).to.deep.equal(['client-cert', 'client-cert', 'client-cert']);
    const urls = (await d.request('GET', '/api/v1/provisioning/urls')).json.urls;
    expect(urls.find((u: any) => u.module === 'yealink').protections.map((x: { en: string }) => x.en)).to.include("client certificate from the vendor's device CA, naming the MAC");
  });

  it('other vendors\' phones, without certificates, are still served over the same port', async () => {
    const mac = '7C2F80E0DA33';
    await addDevice(d, mac, 'gigaset', 'N870 IP PRO');
    await assign(d, mac, 'gil');
    const r = await ask({ path: `/${mac.toLowerCase()}.xml`, ua: `Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;${mac}` });
    expect(r.text).to.include(await sipPassword(d, mac));
  });

  it('Unify WPI: with its device CA installed, WriteItems only to the phone presenting its certificate', async () => {
    const unifyCa = issue('Test Unify Device CA', null, true);
    expect((await d.request('PUT', '/api/v1/provisioning/vendor-cas/unify', { body: { pem: unifyCa.cert } })).status).to.equal(200);
    const mac = '001AE8A13B44';
    const colons = mac.toLowerCase().match(/../g)!.join(':');
    await addDevice(d, mac, 'unify', 'OpenScape Desk Phone CP600');
    await assign(d, mac, 'ute');
    const pw = await sipPassword(d, mac);
    const post = (body: string, client?: Pair, cookie?: string) =>
      ask({ port: d.listeners.wpi!, path: '/DeploymentService/LoginService', method: 'POST', body, ...(client ? { client } : {}),
        headers: { 'content-type': 'text/xml; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), ...(cookie ? { cookie } : {}) } });
    const dialogue = async (client?: Pair) => {
      const open = dls(await post(workpoint(null, 'start-up', unifyItems(colons)), client));
      return dls(await post(workpoint(open.nonce, 'reply-to', unifyItems(colons), ' action="ReadAllItems" status="accepted"'), client, open.cookie));
    };
    const without = await dialogue();
    expect(without.action).to.equal('CleanUp');
    expect(JSON.stringify(without.items)).to.not.include(pw);
    const withCert = await dialogue(issue(colons, unifyCa));
    expect(withCert.action).to.equal('WriteItems');
    expect(withCert.items['sip-pwd']).to.equal(pw);
    const removed = await d.ctl(['provisioning', 'vendor-ca', 'remove', 'unify']);
    expect(removed.code, removed.stderr).to.equal(0);
    expect((await dialogue()).items['sip-pwd'], 'no certificate asked once the CA is removed').to.equal(pw);
  });
});
