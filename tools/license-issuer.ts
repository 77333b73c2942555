/**
 * Vendor side: the certificate authority that signs licenses, and issuing
 * license files. Used by `pbx-license`, the development activation server and
 * the tests. The appliance never signs; it only runs LicenseVerifier.
 */
import forge from 'node-forge';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appRoot } from '../daemon/config.js';
import { DEVELOPMENT_ROOT, LICENSE_SIGNING_EKU } from '../daemon/licensing/verifier.js';
import { canonicalJson, encodeLicenseFile, FORMAT_VERSION, type LicensePayload } from '../daemon/licensing/format.js';

/** The development CA that ships in the repo; the daemon trusts its root unless told not to. */
export const DEV_CA_DIR = join(appRoot, 'tools', 'dev-ca');

export interface Signer {
  key: forge.pki.rsa.PrivateKey;
  /** PEM of the signing certificate first, then intermediates (the root is not included). Kept as text: forge cannot read the license signing EKU (an OID arc beyond 53 bits). */
  chain: string[];
}

function serial(): string {
  return '01' + forge.util.bytesToHex(forge.random.getBytesSync(15));
}

export interface CertOptions {
  subjectCN: string;
  publicKey: forge.pki.PublicKey;
  issuer: forge.pki.Certificate | null;
  issuerKey: forge.pki.rsa.PrivateKey;
  isCA: boolean;
  years: number;
  notBefore?: Date;
  notAfter?: Date;
  /** The certificate's own signature: SHA-256 unless a test wants a weak one. */
  hash?: 'sha256' | 'sha384' | 'sha1' | 'md5';
  /** Extended key usage OIDs of a signing certificate (default: the pbxd license signing one). */
  extKeyUsage?: string[] | null;
  keyUsage?: { digitalSignature?: boolean; keyCertSign?: boolean; cRLSign?: boolean; keyEncipherment?: boolean };
  /** More extensions as forge takes them ({ id, critical, value: DER as a binary string }). */
  extraExtensions?: Array<{ id: string; critical?: boolean; value: string }>;
}

/** DER of an extended key usage value (forge cannot encode OID arcs beyond 32 bits, as under 2.25). */
function ekuDer(oids: string[]): string {
  const tlv = (tag: number, body: Buffer) => {
    const len = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
    return Buffer.concat([Buffer.from([tag]), len, body]);
  };
  const oid = (dotted: string) => {
    const arcs = dotted.split('.').map(BigInt);
    const out: number[] = [];
    for (const arc of [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)]) {
      const chunk: number[] = [];
      let v = arc;
      do {
        chunk.unshift(Number(v & 0x7fn) | (chunk.length ? 0x80 : 0));
        v >>= 7n;
      } while (v > 0n);
      out.push(...chunk);
    }
    return tlv(0x06, Buffer.from(out));
  };
  return tlv(0x30, Buffer.concat(oids.map(oid))).toString('binary');
}

/** A certificate; signing certificates carry keyUsage digitalSignature and the license signing EKU. */
export function makeCert(opts: CertOptions): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = opts.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = opts.notBefore ?? new Date(Date.now() - 24 * 3600_000);
  cert.validity.notAfter = opts.notAfter ?? new Date(cert.validity.notBefore.getTime() + opts.years * 365 * 24 * 3600_000);
  const subject = [{ name: 'commonName', value: opts.subjectCN }, { name: 'organizationName', value: 'pbxd vendor' }];
  cert.setSubject(subject);
  cert.setIssuer(opts.issuer ? opts.issuer.subject.attributes : subject);
  const eku = opts.extKeyUsage === undefined ? [LICENSE_SIGNING_EKU] : opts.extKeyUsage;
  cert.setExtensions(
    opts.isCA
      ? [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', ...(opts.keyUsage ?? { keyCertSign: true, cRLSign: true }), critical: true }, { name: 'subjectKeyIdentifier' }]
      : [
          { name: 'basicConstraints', cA: false, critical: true },
          { name: 'keyUsage', ...(opts.keyUsage ?? { digitalSignature: true }), critical: true },
          ...(eku ? [{ id: '2.5.29.37', value: ekuDer(eku) }] : []),
          { name: 'subjectKeyIdentifier' },
          ...(opts.extraExtensions ?? []),
        ],
  );
  cert.sign(opts.issuerKey, forge.md[opts.hash ?? 'sha256'].create());
  return cert;
}

/** An RSA key pair made by OpenSSL (forge's pure-JS generation takes seconds), as forge keys. */
export function rsaKeyPair(bits: number, publicExponent = 65537): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent });
  const priv = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }) as string) as forge.pki.rsa.PrivateKey;
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e) };
}

/** A new CA: a root and a license signing certificate under it, written to `dir`. */
export function createCa(dir: string, name = 'pbxd Development License Root CA', notBefore?: Date): { rootPem: string } {
  mkdirSync(dir, { recursive: true });
  const rootKeys = rsaKeyPair(3072);
  const root = makeCert({ subjectCN: name, publicKey: rootKeys.publicKey, issuer: null, issuerKey: rootKeys.privateKey, isCA: true, years: 30, notBefore });
  const signKeys = rsaKeyPair(2048);
  const signing = makeCert({ subjectCN: `${name} - license signing`, publicKey: signKeys.publicKey, issuer: root, issuerKey: rootKeys.privateKey, isCA: false, years: 20, notBefore });
  const rootPem = forge.pki.certificateToPem(root);
  writeFileSync(join(dir, 'root.cert.pem'), rootPem);
  writeFileSync(join(dir, 'root.key.pem'), forge.pki.privateKeyToPem(rootKeys.privateKey), { mode: 0o600 });
  writeFileSync(join(dir, 'signing.cert.pem'), forge.pki.certificateToPem(signing));
  writeFileSync(join(dir, 'signing.key.pem'), forge.pki.privateKeyToPem(signKeys.privateKey), { mode: 0o600 });
  return { rootPem };
}

/** The CA itself (root certificate and key) of a CA folder; the development CA's root certificate ships with pbxd. */
export function loadCa(dir = DEV_CA_DIR): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } {
  const certFile = dir === DEV_CA_DIR ? DEVELOPMENT_ROOT : join(dir, 'root.cert.pem');
  return {
    cert: forge.pki.certificateFromPem(readFileSync(certFile, 'utf8')),
    key: forge.pki.privateKeyFromPem(readFileSync(join(dir, 'root.key.pem'), 'utf8')) as forge.pki.rsa.PrivateKey,
  };
}

export function loadSigner(dir = DEV_CA_DIR): Signer {
  return {
    key: forge.pki.privateKeyFromPem(readFileSync(join(dir, 'signing.key.pem'), 'utf8')),
    chain: [readFileSync(join(dir, 'signing.cert.pem'), 'utf8')],
  };
}

/** What a license can be issued from; everything but the system id has a sensible default. */
export interface LicenseSpec {
  systemId: string;
  licenseId?: string;
  edition?: string;
  trial?: boolean;
  kind?: 'final' | 'provisional';
  operator?: LicensePayload['operator'];
  issuedAt?: string;
  validFrom?: string;
  expiresAt?: string | null;
  updateServiceUntil?: string;
  quantities?: Record<string, number>;
  perUser?: Record<string, number>;
  labels?: LicensePayload['labels'];
  requires?: string[];
  format?: number;
  /** A rehost license: the system id of the appliance whose data the new one carries on. */
  rehostOf?: string;
}

const DAY = 24 * 3600_000;

export function payloadFromSpec(spec: LicenseSpec, now = new Date()): LicensePayload {
  const issuedAt = spec.issuedAt ?? new Date(now.getTime() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    format: spec.format ?? FORMAT_VERSION,
    licenseId: spec.licenseId ?? `LIC-${forge.util.bytesToHex(forge.random.getBytesSync(4)).toUpperCase()}`,
    edition: spec.edition ?? 'Standard',
    trial: spec.trial ?? false,
    kind: spec.kind ?? 'final',
    operator: spec.operator ?? { company: 'Musterfirma GmbH', street: 'Christian-Pommer-Straße 23', postcode: '38112', city: 'Braunschweig' },
    systemId: spec.systemId,
    issuedAt,
    validFrom: spec.validFrom ?? issuedAt,
    expiresAt: spec.expiresAt === undefined ? new Date(now.getTime() + 365 * DAY).toISOString().replace(/\.\d+Z$/, 'Z') : spec.expiresAt,
    updateServiceUntil: spec.updateServiceUntil ?? new Date(now.getTime() + 365 * DAY).toISOString().slice(0, 10),
    quantities: spec.quantities ?? { users: 25, 'devices.cisco': 10, 'devices.unify': 10 },
    perUser: spec.perUser ?? { clientbundle: 25, vap: 2 },
    ...(spec.labels ? { labels: spec.labels } : {}),
    ...(spec.requires ? { requires: spec.requires } : {}),
    ...(spec.rehostOf ? { rehostOf: spec.rehostOf } : {}),
  };
}

/** Sign a payload exactly as given (tests use this to sign odd payloads, or with a weak digest, on purpose). */
export function signPayload(payload: unknown, signer: Signer, digest: 'sha256' | 'sha1' | 'md5' = 'sha256'): string {
  const bytes = Buffer.from(canonicalJson(payload), 'utf8');
  const md = forge.md[digest].create();
  md.update(bytes.toString('binary'));
  const signature = Buffer.from(signer.key.sign(md), 'binary');
  return encodeLicenseFile({ payloadBytes: bytes, signature, certificates: signer.chain });
}

/** The vendor's revocation list: signing certificate serials (hex) and license ids no appliance may accept any more. */
export function issueRevocationList(spec: { serials?: string[]; licenseIds?: string[]; issuedAt?: string }, signer: Signer = loadSigner(), now = new Date()): string {
  const payload = {
    format: 1,
    issuedAt: spec.issuedAt ?? now.toISOString().replace(/\.\d+Z$/, 'Z'),
    serials: (spec.serials ?? []).map((x) => x.replace(/:/g, '').toUpperCase()),
    licenseIds: spec.licenseIds ?? [],
  };
  const bytes = Buffer.from(canonicalJson(payload), 'utf8');
  const md = forge.md.sha256.create();
  md.update(bytes.toString('binary'));
  const signature = Buffer.from(signer.key.sign(md), 'binary');
  return encodeLicenseFile({ payloadBytes: bytes, signature, certificates: signer.chain }, 'revocations');
}

export function issueLicense(spec: LicenseSpec, signer: Signer = loadSigner(), now = new Date()): string {
  return signPayload(payloadFromSpec(spec, now), signer);
}
