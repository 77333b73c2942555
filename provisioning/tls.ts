import forge from 'node-forge';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

/**
 * The appliance's TLS material in `<dataDir>/tls/`:
 *   ca.crt / ca.key          its own CA (created at first start)
 *   server.crt / server.key  the certificate the provisioning ports present
 * An admin who puts their own server.crt and server.key there gets those used
 * instead (the CA is then only kept, not used). Key files are mode 0600.
 */
interface TlsMaterial {
  key: string;
  cert: string;
  caCert: string | null;
  /** 'own CA' when created here, 'admin' when the admin supplied server.crt/server.key. */
  origin: 'own CA' | 'admin';
}

function newKey(): forge.pki.rsa.KeyPair {
  // Key generation in native crypto (forge's pure-JS generation takes seconds);
  // the certificates themselves are built and signed with node-forge.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const priv = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e) };
}

function cert(subjectCN: string, publicKey: forge.pki.PublicKey, issuer: forge.pki.Certificate | null, issuerKey: forge.pki.rsa.PrivateKey, extensions: object[], years: number) {
  const c = forge.pki.createCertificate();
  c.publicKey = publicKey;
  c.serialNumber = '01' + randomBytes(15).toString('hex');
  c.validity.notBefore = new Date(Date.now() - 24 * 3600_000);
  c.validity.notAfter = new Date(c.validity.notBefore.getTime() + years * 365 * 24 * 3600_000);
  const subject = [{ name: 'commonName', value: subjectCN }, { name: 'organizationName', value: 'pbxd appliance' }];
  c.setSubject(subject);
  c.setIssuer(issuer ? issuer.subject.attributes : subject);
  c.setExtensions(extensions);
  c.sign(issuerKey, forge.md.sha256.create());
  return c;
}

export function loadOrCreateTls(dataDir: string, hostnames: string[]): TlsMaterial {
  const dir = join(dataDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const f = (n: string) => join(dir, n);
  if (existsSync(f('server.crt')) && existsSync(f('server.key'))) {
    const ca = existsSync(f('ca.crt')) ? readFileSync(f('ca.crt'), 'utf8') : null;
    const certPem = readFileSync(f('server.crt'), 'utf8');
    // Ours if it was issued by our CA; otherwise the admin's own.
    let origin: TlsMaterial['origin'] = 'admin';
    if (ca) {
      try {
        origin = forge.pki.certificateFromPem(ca).verify(forge.pki.certificateFromPem(certPem)) ? 'own CA' : 'admin';
      } catch {
        origin = 'admin';
      }
    }
    return { key: readFileSync(f('server.key'), 'utf8'), cert: certPem, caCert: ca, origin };
  }

  const caKeys = newKey();
  const ca = cert('pbxd appliance CA', caKeys.publicKey, null, caKeys.privateKey, [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ], 20);
  const names = hostnames.length ? hostnames : ['localhost'];
  const serverKeys = newKey();
  const server = cert(names[0]!, serverKeys.publicKey, ca, caKeys.privateKey, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
  ], 10);
  const caPem = forge.pki.certificateToPem(ca);
  const serverPem = forge.pki.certificateToPem(server);
  const keyPem = forge.pki.privateKeyToPem(serverKeys.privateKey);
  writeFileSync(f('ca.key'), forge.pki.privateKeyToPem(caKeys.privateKey), { mode: 0o600 });
  writeFileSync(f('ca.crt'), caPem, { mode: 0o644 });
  writeFileSync(f('server.key'), keyPem, { mode: 0o600 });
  writeFileSync(f('server.crt'), serverPem + caPem, { mode: 0o644 });
  return { key: keyPem, cert: serverPem + caPem, caCert: caPem, origin: 'own CA' };
}
