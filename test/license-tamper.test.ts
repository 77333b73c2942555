import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { TestDaemon } from './support/daemon.js';
import { loadCa, loadSigner } from '../tools/license-issuer.js';
import forge from 'node-forge';
import { DAY, devSigner, hugePublicKey, iso, otherCa, payload, pemOf, rearmour, sign, withRandomSignature, type TamperCase } from './support/tamper.js';

const M = (reason: string) => `This is not a pbxd license file (${reason}).`;
const C = (reason: string) => `The signing certificate in the license file is invalid (${reason}).`;
const ALTERED = 'The license file has been altered: its signature does not match its contents.';
const TRUNCATED = 'The license file is incomplete: it ends before its last block.';

/** Every case: built from a genuine file for the appliance, changed the way a dishonest admin would. */
function corpus(systemId: string): TamperCase[] {
  const now = Date.now();
  const good = sign(payload(systemId, { licenseId: 'LIC-TAMPER', quantities: { users: 30 } }));
  const lines = good.split('\n');
  const cases: TamperCase[] = [];
  const add = (name: string, text: string | Buffer, code: string, message: string | RegExp) => cases.push({ name, text, code, message });
  const p = (over: Record<string, unknown>) => payload(systemId, over);

  // ── the armour ──
  add('an empty file', '', 'LIC_EMPTY', 'The license file is empty.');
  add('only blanks', ' \n\t\r\n', 'LIC_EMPTY', 'The license file is empty.');
  add('only a byte order mark', '\ufeff', 'LIC_EMPTY', 'The license file is empty.');
  add('a mail without blocks', 'Dear customer,\nplease find attached…\n', 'LIC_MALFORMED', M('it does not contain a license block'));
  add('the blocks in the wrong order', rearmour(good, () => undefined).split('-----BEGIN PBXD LICENSE SIGNATURE-----').reverse().join('-----BEGIN PBXD LICENSE SIGNATURE-----'), 'LIC_MALFORMED', /^This is not a pbxd license file/);
  add('only the license block', good.slice(0, good.indexOf('-----BEGIN PBXD LICENSE SIGNATURE-----')), 'LIC_TRUNCATED', TRUNCATED);
  add('no certificate block', good.slice(0, good.indexOf('-----BEGIN CERTIFICATE-----')), 'LIC_TRUNCATED', TRUNCATED);
  add('cut in the middle of a block', good.slice(0, good.length - 200), 'LIC_TRUNCATED', TRUNCATED);
  add('a wrong END line', good.replace('-----END PBXD LICENSE-----', '-----END PBXD LICENCE-----'), 'LIC_MALFORMED', M('block PBXD LICENSE ends with a wrong line'));
  add('an empty block', good.replace(/(-----BEGIN PBXD LICENSE SIGNATURE-----\n)[^-]*/, '$1'), 'LIC_MALFORMED', M('block PBXD LICENSE SIGNATURE is empty'));
  add('base64 in 76 columns', good.replace(/(-----BEGIN PBXD LICENSE-----\n)([^-]*)/, (_m, b: string, body: string) => b + body.replace(/\n/g, '').match(/.{1,76}/g)!.join('\n') + '\n'), 'LIC_MALFORMED', M('block PBXD LICENSE is not base64 in 64 columns'));
  add('a character outside base64', good.replace(lines[1]!, lines[1]!.slice(0, 10) + '*' + lines[1]!.slice(11)), 'LIC_MALFORMED', M('block PBXD LICENSE is not base64 in 64 columns'));
  add('a carriage return inside a line', good.replace(lines[1]!, lines[1]!.slice(0, 10) + '\r' + lines[1]!.slice(11)), 'LIC_MALFORMED', M('block PBXD LICENSE is not base64 in 64 columns'));
  {
    // Non-canonical base64: the last character carries bits beyond the data.
    const sigStart = lines.indexOf('-----BEGIN PBXD LICENSE SIGNATURE-----');
    const last = lines.indexOf('-----END PBXD LICENSE SIGNATURE-----') - 1;
    const l = lines[last]!;
    const pad = l.indexOf('=');
    if (pad > 0 && sigStart > 0) {
      const ch = l[pad - 1]!;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const bumped = alphabet[(alphabet.indexOf(ch) + 1) % 64]!;
      add('non-canonical base64', good.replace(l, l.slice(0, pad - 1) + bumped + l.slice(pad)), 'LIC_MALFORMED', M('block PBXD LICENSE SIGNATURE is not canonical base64'));
    } else {
      add('non-canonical base64', good.replace(/(-----BEGIN PBXD LICENSE SIGNATURE-----\n)/, '$1QQ==\n').replace('QQ==\n', 'QR==\n'), 'LIC_MALFORMED', /^This is not a pbxd license file/);
    }
  }
  add('a private key block after the signature', good.replace('-----BEGIN CERTIFICATE-----', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----'), 'LIC_MALFORMED', M('unexpected block after the signature'));
  add('a certificate in place of the signature', good.replace(/-----BEGIN PBXD LICENSE SIGNATURE-----\n[^-]*-----END PBXD LICENSE SIGNATURE-----\n/, ''), 'LIC_MALFORMED', M('the second block is not the signature'));
  add('a damaged BEGIN line', good.replace('-----BEGIN PBXD LICENSE SIGNATURE-----', '-----BEGIN PBXD LICENSe SIGNATURE-----'), 'LIC_MALFORMED', /^This is not a pbxd license file \(unexpected text on line \d+\)\.$/);
  add('a 70 kB file', good + 'x'.repeat(70_000), 'LIC_TOO_LARGE', /^The license file is 7\d{4} bytes; a license file has at most 65536 bytes\.$/);
  add('bytes that are not UTF-8', Buffer.concat([Buffer.from(good), Buffer.from([0xff, 0xfe, 0x00])]), 'LIC_MALFORMED', M('it is not text'));

  // ── the signature over the payload ──
  add('one flipped byte in the payload', rearmour(good, (f) => void (f.payloadBytes[20]! ^= 0x01)), 'LIC_SIGNATURE_INVALID', ALTERED);
  add('more users written into the payload', rearmour(good, (f) => void (f.payloadBytes = Buffer.from(f.payloadBytes.toString().replace('"users":30', '"users":99999')))), 'LIC_SIGNATURE_INVALID', ALTERED);
  add('the expiry removed from the payload', rearmour(good, (f) => void (f.payloadBytes = Buffer.from(f.payloadBytes.toString().replace(/"expiresAt":"[^"]+"/, '"expiresAt":null')))), 'LIC_SIGNATURE_INVALID', ALTERED);
  add('blanks added to the payload JSON', rearmour(good, (f) => void (f.payloadBytes = Buffer.from(f.payloadBytes.toString().replace(',', ', ')))), 'LIC_SIGNATURE_INVALID', ALTERED);
  add('a random signature', rearmour(good, (f) => void (f.signature = randomBytes(256))), 'LIC_SIGNATURE_INVALID', ALTERED);
  add('a signature of zeros', rearmour(good, (f) => void (f.signature = Buffer.alloc(256))), 'LIC_SIGNATURE_INVALID', ALTERED);
  add('a signature one byte short', rearmour(good, (f) => void (f.signature = f.signature.subarray(1))), 'LIC_SIGNATURE_INVALID', ALTERED);
  add('a signature one byte long', rearmour(good, (f) => void (f.signature = Buffer.concat([f.signature, Buffer.from([0])]))), 'LIC_SIGNATURE_INVALID', ALTERED);
  {
    const other = sign(p({ licenseId: 'LIC-OTHER', quantities: { users: 100000 } }));
    const otherSig = rearmour(other, () => undefined);
    let sig: Buffer = Buffer.alloc(0);
    rearmour(otherSig, (f) => void (sig = f.signature));
    add("another license's signature", rearmour(good, (f) => void (f.signature = sig)), 'LIC_SIGNATURE_INVALID', ALTERED);
  }
  add('a DigestInfo naming SHA-1', sign(p({}), loadSigner(), 'sha1'), 'LIC_SIGNATURE_INVALID', ALTERED);
  add('a DigestInfo naming MD5', sign(p({}), loadSigner(), 'md5'), 'LIC_SIGNATURE_INVALID', ALTERED);

  // ── the certificates ──
  const devCertDer = () => {
    let der: Buffer = Buffer.alloc(0);
    rearmour(good, (f) => void (der = Buffer.from(f.certificateDer[0]!)));
    return der;
  };
  add('a certificate block of garbage', rearmour(good, (f) => void (f.certificates = [pemOf(randomBytes(600))])), 'LIC_CERT_INVALID', C('the certificate cannot be read'));
  add('a byte after the certificate', rearmour(good, (f) => void (f.certificates = [pemOf(Buffer.concat([devCertDer(), Buffer.from([0])]))])), 'LIC_CERT_INVALID', C('the certificate cannot be read'));
  {
    const der = devCertDer();
    const at = der.indexOf('license signing');
    der[at]! ^= 0x20;
    add("a changed letter in the certificate's name", rearmour(good, (f) => void (f.certificates = [pemOf(der)])), 'LIC_CERT_INVALID', C('a certificate was not signed by the key of "pbxd Development License Root CA"'));
  }
  {
    // The outer signature algorithm is not covered by the signature: sha256WithRSA (…01 0b) → sha1WithRSA (…01 05).
    const der = devCertDer();
    const oid = Buffer.from('2a864886f70d01010b', 'hex');
    const outer = der.lastIndexOf(oid);
    der[outer + oid.length - 1] = 0x05;
    add('the outer signature algorithm changed', rearmour(good, (f) => void (f.certificates = [pemOf(der)])), 'LIC_CERT_INVALID', C('the certificate cannot be read'));
  }
  const evil = otherCa('Evil Corp Root');
  add('a CA of their own', sign(p({}), evil.signer), 'LIC_UNKNOWN_CA', 'The license was signed by "Evil Corp Root", which this appliance does not trust.');
  const lookalike = otherCa('pbxd Development License Root CA');
  add('a look-alike of the trusted root', sign(p({}), lookalike.signer), 'LIC_CERT_INVALID', C('a certificate was not signed by the key of "pbxd Development License Root CA"'));
  add('a signing certificate signed with SHA-1', sign(p({}), devSigner({ hash: 'sha1' })), 'LIC_CERT_INVALID', C('a certificate is signed with SHA-1, which is not accepted'));
  add('a signing certificate signed with MD5', sign(p({}), devSigner({ hash: 'md5' })), 'LIC_CERT_INVALID', C('a certificate is signed with MD5, which is not accepted'));
  add('an RSA-1024 signing key', sign(p({}), devSigner({ bits: 1024 })), 'LIC_CERT_INVALID', C('an RSA key of 1024 bits is not accepted (2048 to 4096)'));
  add('an RSA exponent of 3', sign(p({}), devSigner({ exponent: 3 })), 'LIC_CERT_INVALID', C('an RSA exponent of 3 is not accepted (65537)'));
  add('an 8192-bit signing key', withRandomSignature(p({}), devSigner({ publicKey: hugePublicKey(8192) }).chain, 1024), 'LIC_CERT_INVALID', C('an RSA key of 8192 bits is not accepted (2048 to 4096)'));
  add('a 16384-bit signing key', withRandomSignature(p({}), devSigner({ publicKey: hugePublicKey(16384) }).chain, 2048), 'LIC_CERT_INVALID', C('an RSA key of 16384 bits is not accepted (2048 to 4096)'));
  add('a 16384-bit key from an unknown CA', withRandomSignature(p({}), devSigner({ publicKey: hugePublicKey(16384), ...loadCaAsIssuer(evil.dir) }).chain, 2048), 'LIC_UNKNOWN_CA', 'The license was signed by "Evil Corp Root", which this appliance does not trust.');
  add('a signing certificate without extended key usage', sign(p({}), devSigner({ extKeyUsage: null })), 'LIC_CERT_INVALID', C('the signing certificate is not made for signing pbxd licenses (extended key usage)'));
  add('a TLS server certificate', sign(p({}), devSigner({ extKeyUsage: ['1.3.6.1.5.5.7.3.1'] })), 'LIC_CERT_INVALID', C('the signing certificate is not made for signing pbxd licenses (extended key usage)'));
  add('a certificate for key encipherment only', sign(p({}), devSigner({ keyUsage: { keyEncipherment: true } })), 'LIC_CERT_INVALID', C('the signing certificate is not made for digital signatures (keyUsage)'));
  add('a CA certificate as the signer', sign(p({}), devSigner({ isCA: true })), 'LIC_CERT_INVALID', C('a CA certificate cannot sign licenses'));
  {
    const ca = loadCa();
    add('the root itself as the signer', sign(p({}), { key: ca.key, chain: [forge.pki.certificateToPem(ca.cert)] }), 'LIC_CERT_INVALID', C('a CA certificate cannot sign licenses'));
  }
  add('an expired signing certificate', sign(p({ issuedAt: iso(now - 400 * DAY), validFrom: iso(now - 400 * DAY), expiresAt: null }), devSigner({ notBefore: new Date(now - 500 * DAY), notAfter: new Date(now - 100 * DAY) })), 'LIC_CERT_INVALID', C('the signing certificate has expired'));
  add('a signing certificate not valid yet', sign(p({}), devSigner({ notBefore: new Date(now + 10 * DAY), notAfter: new Date(now + 900 * DAY) })), 'LIC_CERT_INVALID', C('the signing certificate is not valid yet'));
  add('issued before its signing certificate existed', sign(p({ issuedAt: iso(now - 30 * DAY), validFrom: iso(now - 30 * DAY) }), devSigner({ notBefore: new Date(now - 10 * DAY) })), 'LIC_CERT_INVALID', C('the license was issued outside the validity of its signing certificate'));
  {
    const s = loadSigner();
    add('five certificates', sign(p({}), { key: s.key, chain: [s.chain[0]!, s.chain[0]!, s.chain[0]!, s.chain[0]!, s.chain[0]!] }), 'LIC_CERT_INVALID', C('more than 4 certificates'));
  }
  {
    const mid = devSigner({ isCA: false, extKeyUsage: null, keyUsage: { digitalSignature: true, keyCertSign: true } });
    const leaf = devSigner({ issuer: forge.pki.certificateFromPem(mid.chain[0]!), issuerKey: mid.key });
    add('an intermediate that is not a CA', sign(p({}), { key: leaf.key, chain: [leaf.chain[0]!, mid.chain[0]!] }), 'LIC_CERT_INVALID', C('an intermediate certificate is not a CA'));
  }
  add('an unknown critical extension', sign(p({}), devSigner({ extraExtensions: [{ id: '1.2.3.4.5', critical: true, value: '\x05\x00' }] })), 'LIC_CERT_INVALID', C('unknown critical extension 1.2.3.4.5'));

  // ── the payload (genuinely signed with the public development keys) ──
  add('month 13', sign(p({ issuedAt: '2026-13-01T00:00:00Z' })), 'LIC_MALFORMED', M('issuedAt is not a real UTC time'));
  add('February 30', sign(p({ expiresAt: '2027-02-30T00:00:00Z' })), 'LIC_MALFORMED', M('expiresAt is not a real UTC time'));
  add('hour 24', sign(p({ validFrom: '2026-01-01T24:00:00Z' })), 'LIC_MALFORMED', M('validFrom is not a real UTC time'));
  add('a local time without Z', sign(p({ expiresAt: '2030-01-01T00:00:00' })), 'LIC_MALFORMED', M('expiresAt is not a real UTC time'));
  add('29 February of a common year', sign(p({ updateServiceUntil: '2027-02-29' })), 'LIC_MALFORMED', M('updateServiceUntil is not a real date'));
  add('a code named constructor', sign(p({ quantities: { users: 5, constructor: 3 } })), 'LIC_MALFORMED', M('code "constructor" is a reserved name'));
  add('a per-user code named constructor', sign(p({ perUser: { constructor: 3 } })), 'LIC_MALFORMED', M('code "constructor" is a reserved name'));
  add('a code named __proto__', signRaw(systemId, '"perUser":{"__proto__":5}'), 'LIC_MALFORMED', M('code "__proto__" is not a valid code'));
  add('a negative quantity', sign(p({ quantities: { users: -1 } })), 'LIC_MALFORMED', M('quantity of users is not a whole number'));
  add('a fractional quantity', sign(p({ quantities: { users: 1.5 } })), 'LIC_MALFORMED', M('quantity of users is not a whole number'));
  add('a quantity of 1e300', sign(p({ quantities: { users: 1e300 } })), 'LIC_MALFORMED', M('quantity of users is not a whole number'));
  add('a quantity as text', sign(p({ quantities: { users: '100000' } })), 'LIC_MALFORMED', M('quantity of users is not a whole number'));
  add('an array as payload', sign([1, 2, 3]), 'LIC_MALFORMED', M('format version missing'));
  add('a payload that is not JSON', signBytes('{"format":1,'), 'LIC_MALFORMED', M('its contents are not JSON'));
  add('kind "eternal"', sign(p({ kind: 'eternal' })), 'LIC_MALFORMED', M('kind must be final or provisional'));
  add('no trial flag', sign(p({ trial: 'no' })), 'LIC_MALFORMED', M('trial missing'));
  add('no operator', sign(p({ operator: null })), 'LIC_MALFORMED', M('operator missing'));
  add('no license id', sign(p({ licenseId: '' })), 'LIC_MALFORMED', M('licenseId missing'));
  add('quantities as a list', sign(p({ quantities: [100] })), 'LIC_MALFORMED', M('quantities missing'));
  add('another system', sign(p({ systemId: '4F2A-0000-1111-2222' })), 'LIC_SYSTEM_ID_MISMATCH', `This license is for system 4F2A-0000-1111-2222, this appliance is ${systemId}.`);
  add('expired past its grace period', sign(p({ issuedAt: iso(now - 400 * DAY), validFrom: iso(now - 400 * DAY), expiresAt: iso(now - 30 * DAY) })), 'LIC_EXPIRED', /^This license expired on /);
  add('issued tomorrow', sign(p({ issuedAt: iso(now + DAY), validFrom: iso(now) })), 'LIC_ISSUED_IN_FUTURE', /^This license was issued at /);
  add('an update service that ended', sign(p({ updateServiceUntil: '2020-01-01' })), 'LIC_UPDATE_SERVICE_ENDED', /^The update service of this license ended on 2020-01-01/);
  add('format 2', sign(p({ format: 2 })), 'LIC_NEEDS_NEWER_PBXD', 'This license needs a newer pbxd (it uses format 2).');
  add('an unknown requirement', sign(p({ requires: ['time-travel'] })), 'LIC_NEEDS_NEWER_PBXD', 'This license needs a newer pbxd (it uses time-travel).');
  return cases;
}

/** The issuer fields for devSigner from another CA's folder. */
function loadCaAsIssuer(dir: string) {
  const ca = loadCa(dir);
  return { issuer: ca.cert, issuerKey: ca.key };
}

/** A payload with raw JSON spliced in (JSON.stringify cannot write a "__proto__" key). */
function signRaw(systemId: string, fragment: string): string {
  const base = JSON.stringify(payload(systemId, { perUser: {} }));
  return signBytes(base.replace('"perUser":{}', fragment));
}

function signBytes(text: string): string {
  const s = loadSigner();
  const md = forge.md.sha256.create();
  md.update(text, 'utf8');
  const signature = Buffer.from(s.key.sign(md), 'binary');
  const b64 = (b: Buffer) => b.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN PBXD LICENSE-----\n${b64(Buffer.from(text))}\n-----END PBXD LICENSE-----\n-----BEGIN PBXD LICENSE SIGNATURE-----\n${b64(signature)}\n-----END PBXD LICENSE SIGNATURE-----\n${s.chain[0]}`;
}

describe('license tamper corpus (a dishonest admin with the repository and its development keys)', function () {
  this.timeout(180_000);
  let d: TestDaemon;
  let initial: unknown;
  const snapshot = async () => {
    const { now: _now, ...s } = await d.status();
    const { now: _n, ...license } = (await d.request('GET', '/api/v1/license')).json;
    return { s, license };
  };

  let cases: TamperCase[];
  before(async () => {
    d = await TestDaemon.start();
    // Built before the first request: making the keys blocks this process for seconds, and a
    // keep-alive connection left idle that long is closed by the daemon under the client's feet.
    cases = corpus(d.systemId);
    await d.installLicense({ licenseId: 'LIC-IN-FORCE', quantities: { users: 20, 'devices.cisco': 2, 'devices.unify': 2 }, perUser: { clientbundle: 5 } });
    initial = await snapshot();
  });
  after(async () => d?.dispose());

  it('has at least 60 cases', () => {
    expect(cases.length).to.be.at.least(60);
  });

  it('refuses every case with its code and message, and changes nothing', async () => {
    const failures: string[] = [];
    for (const c of cases) {
      const r = await d.request('POST', '/api/v1/license', { raw: c.text });
      const err = r.json?.error;
      if (!err || err.code !== c.code) {
        failures.push(`${c.name}: expected ${c.code}, got ${r.status} ${r.text.slice(0, 200)}`);
        continue;
      }
      const okMessage = typeof c.message === 'string' ? err.message === c.message : c.message.test(err.message);
      if (!okMessage) failures.push(`${c.name}: message ${JSON.stringify(err.message)} does not match ${c.message}`);
      if (!err.text.de || !err.remedy.en) failures.push(`${c.name}: no German text or remedy`);
      expect(await snapshot(), `state after "${c.name}"`).to.deep.equal(initial);
    }
    expect(failures).to.deep.equal([]);
  });

  it('refuses hostile certificates while /healthz keeps answering', async () => {
    const hostile = cases.filter((c) => /16384|8192|expired signing|SHA-1|MD5|month 13|extended key usage/.test(c.name));
    expect(hostile.length).to.be.at.least(8);
    for (const c of hostile) {
      const [refused, health] = await Promise.all([d.request('POST', '/api/v1/license', { raw: c.text }), d.request("GET", "/healthz", { auth: false })]);
      expect(refused.json.error.code, c.name).to.equal(c.code);
      expect(health.status, c.name).to.equal(200);
    }
  });

  it('a code named constructor or __proto__ has no effect on assignments, status, the usage report or /metrics', async () => {
    for (const code of ['constructor', '__proto__', 'toString']) {
      const r = await d.request('POST', '/api/v1/user-licenses', { body: { changes: [{ userName: 'supervisor', code, assigned: true }] } });
      expect(r.status, code).to.equal(400);
      expect(r.json.error.code).to.equal('USERLIC_UNKNOWN_CODE');
    }
    expect(await snapshot()).to.deep.equal(initial);
    const ctl = await d.ctl(['status']);
    expect(ctl.code, ctl.stderr).to.equal(0);
    const report = await d.ctl(['usage', 'report', '--json']);
    expect(report.code, report.stderr).to.equal(0);
    expect(Object.keys(JSON.parse(report.stdout).report.license.perUser)).to.deep.equal(['clientbundle']);
    const metrics = await (await fetch(`${d.apiUrl}/metrics`)).text();
    expect(metrics).to.contain('pbxd_license_granted{code="users",scope="server"} 20');
    expect(metrics).to.not.match(/constructor|__proto__/);
  });

  it('accepts a genuine file pasted into a mail: byte order mark, CRLF, trailing blanks, text around and between the blocks', async () => {
    const text = d.license({ licenseId: 'LIC-PASTED', quantities: { users: 20, 'devices.cisco': 2, 'devices.unify': 2 }, perUser: { clientbundle: 5 } });
    const mail = '\ufeffHello,\r\n\r\nhere is your license:\r\n\r\n' + text.replace('-----BEGIN PBXD LICENSE SIGNATURE-----', '\n-----BEGIN PBXD LICENSE SIGNATURE-----').replace(/\n/g, ' \t\r\n') + '\r\nKind regards\r\nThe vendor\r\n';
    const r = await d.request('POST', '/api/v1/license', { raw: mail });
    expect(r.status, r.text).to.equal(200);
    expect(r.json.payload.licenseId).to.equal('LIC-PASTED');
  });
});
