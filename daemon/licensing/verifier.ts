import { X509Certificate, constants, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appRoot } from '../config.js';
import { refuse, type Refusal } from '../kernel/refusal.js';
import { certFacts, type CertFacts } from './der.js';
import { FORMAT_VERSION, FormatError, KNOWN_REQUIREMENTS, MAX_LICENSE_BYTES, isCalendarDate, parseLicenseFile, parseUtcTime, readPayload, type LicensePayload, type RevocationList, type SignedKind } from './format.js';

export const DEVELOPMENT_ROOT = join(appRoot, 'daemon', 'licensing', 'development-root.pem');

/**
 * The extended key usage a certificate needs to sign pbxd licenses: a private
 * OID (under 2.25, the UUID arc, so it needs no registration). `pbx-license ca
 * init` and the development CA put it into every license signing certificate;
 * a TLS or code signing certificate from the same CA cannot sign licenses.
 */
export const LICENSE_SIGNING_EKU = '2.25.196139395216252682320357297164533459943';

/** Certificate signature algorithms accepted: RSA with SHA-256 or stronger. */
const SIGNATURE_ALGORITHMS: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.1.1.11', 'sha256WithRSAEncryption'],
  ['1.2.840.113549.1.1.12', 'sha384WithRSAEncryption'],
  ['1.2.840.113549.1.1.13', 'sha512WithRSAEncryption'],
]);
const WEAK_ALGORITHMS: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.1.1.4', 'MD5'],
  ['1.2.840.113549.1.1.5', 'SHA-1'],
  ['1.2.840.113549.1.1.2', 'MD2'],
  ['1.2.840.113549.1.1.14', 'SHA-224'],
]);
const RSA_BITS = { min: 2048, max: 4096 };
const MAX_CHAIN = 4;

interface VerifierOptions {
  /** PEM files of vendor root CAs this appliance trusts. */
  trustedRoots: string[];
  systemId: string;
  /** The date this pbxd build was released (YYYY-MM-DD). */
  buildDate: string;
  maxFutureMinutes: number;
  /** Signing certificates (serial, upper-case hex) and license ids the vendor has revoked. */
  revoked?: () => { serials: ReadonlySet<string>; licenseIds: ReadonlySet<string> };
}

/**
 * When a file is judged: at install (upload, renewal, activation) the signing
 * certificates must be valid at the trusted time now; a stored file that was
 * installed while they were valid stays usable after they expire.
 */
type VerifyMode = 'install' | 'stored';

const ISO_DATE_PROBLEM = 'is not a real UTC time';

/** Why a signed payload is unusable, or null. Checks shape only; dates and system id come later. */
function payloadProblem(p: unknown): string | null {
  if (!p || typeof p !== 'object' || Array.isArray(p)) return 'payload is not an object';
  const o = p as Record<string, unknown>;
  const isStr = (k: string) => typeof o[k] === 'string' && (o[k] as string).length > 0;
  for (const k of ['licenseId', 'edition', 'systemId']) if (!isStr(k)) return `${k} missing`;
  if (typeof o.trial !== 'boolean') return 'trial missing';
  if (o.kind !== 'final' && o.kind !== 'provisional') return 'kind must be final or provisional';
  for (const k of ['issuedAt', 'validFrom']) if (!parseUtcTime(o[k])) return `${k} ${ISO_DATE_PROBLEM}`;
  if (o.expiresAt !== null && !parseUtcTime(o.expiresAt)) return `expiresAt ${ISO_DATE_PROBLEM}`;
  if (!isCalendarDate(o.updateServiceUntil)) return 'updateServiceUntil is not a real date';
  if (o.rehostOf !== undefined && (typeof o.rehostOf !== 'string' || !/^[0-9A-F]{4}(-[0-9A-F]{4}){3}$/i.test(o.rehostOf))) return 'rehostOf is not a system id';
  const op = o.operator as Record<string, unknown> | undefined;
  if (!op || typeof op !== 'object' || typeof op.company !== 'string') return 'operator missing';
  for (const k of ['quantities', 'perUser']) {
    const q = o[k];
    if (!q || typeof q !== 'object' || Array.isArray(q)) return `${k} missing`;
    for (const [code, n] of Object.entries(q)) {
      if (!/^[a-z][a-z0-9._-]{0,39}$/.test(code)) return `code "${code}" is not a valid code`;
      // A name every object inherits ("constructor") would be read as that member by careless code.
      if (code in Object.prototype) return `code "${code}" is a reserved name`;
      if (!Number.isSafeInteger(n) || (n as number) < 0) return `quantity of ${code} is not a whole number`;
    }
  }
  if (o.labels !== undefined && (!o.labels || typeof o.labels !== 'object' || Array.isArray(o.labels))) return 'labels is not an object';
  if (o.requires !== undefined && (!Array.isArray(o.requires) || !o.requires.every((r) => typeof r === 'string'))) return 'requires is not a list';
  return null;
}

interface Checked {
  cert: X509Certificate;
  facts: CertFacts;
}

/** A chain that was found to lead to a trusted root (or why not); the times are judged per call. */
type ChainVerdict = { ok: true; leafKey: KeyObject; leafSerial: string; windows: Array<{ notBefore: number; notAfter: number }> } | { ok: false; refusal: Refusal };

/** Chains judged before, by their certificates' bytes: a file verified again (load, bench) costs one RSA verify. */
const CHAINS_KEPT = 32;

/**
 * Decides whether a license file is genuine and made for this appliance and
 * this build. It knows nothing of what is installed; every refusal carries its
 * own code. Dates of validity (not yet valid, expired) are judged by the caller,
 * which knows the grace period and whether a file may be scheduled.
 *
 * Order: the certificate chain first, from the trusted root down, so no key
 * from the file is used before the certificate carrying it is known to come
 * from the vendor and to meet the key policy; then the payload's signature;
 * then its contents.
 */
export class LicenseVerifier {
  private readonly roots: Checked[];
  private readonly chains = new Map<string, ChainVerdict>();

  constructor(private readonly opts: VerifierOptions) {
    this.roots = opts.trustedRoots.map((file) => {
      try {
        const cert = new X509Certificate(readFileSync(file));
        return { cert, facts: certFacts(cert.raw) };
      } catch (e) {
        throw new Error(`trusted root ${file} cannot be read: ${(e as Error).message}`);
      }
    });
  }

  /** Where the revocation list in force comes from (licensing keeps it). */
  setRevocationSource(revoked: VerifierOptions['revoked']): void {
    this.opts.revoked = revoked;
  }

  /** SIGHUP: the tolerated clock skew for freshly issued files can change without a restart. */
  setMaxFutureMinutes(minutes: number): void {
    this.opts.maxFutureMinutes = minutes;
  }

  verify(text: string | Buffer, now: Date, mode: VerifyMode = 'install'): { payload: LicensePayload; text: string } {
    const { file, chain, str } = this.verifySigned(text, now, mode, 'license');
    let raw: unknown;
    try {
      raw = JSON.parse(file.payloadBytes.toString('utf8'));
    } catch {
      throw refuse('LIC_MALFORMED', { reason: 'its contents are not JSON' });
    }
    const o = raw as Record<string, unknown> | null;
    if (!o || typeof o !== 'object' || typeof o.format !== 'number') throw refuse('LIC_MALFORMED', { reason: 'format version missing' });
    const unknown = [
      ...(o.format > FORMAT_VERSION ? [`format ${o.format}`] : []),
      ...(Array.isArray(o.requires) ? o.requires.filter((r) => typeof r === 'string' && !KNOWN_REQUIREMENTS.has(r)) : []),
    ];
    if (unknown.length) throw refuse('LIC_NEEDS_NEWER_PBXD', { unknown });
    const problem = payloadProblem(raw);
    if (problem) throw refuse('LIC_MALFORMED', { reason: problem });
    const payload = readPayload(raw as LicensePayload);

    const issued = parseUtcTime(payload.issuedAt)!.getTime();
    const leafWindow = chain.windows[0]!;
    if (issued < leafWindow.notBefore || issued > leafWindow.notAfter)
      throw refuse('LIC_CERT_INVALID', { reason: 'the license was issued outside the validity of its signing certificate' });
    const revoked = this.opts.revoked?.();
    if (revoked?.serials.has(chain.leafSerial)) throw refuse('LIC_REVOKED', { what: `signing certificate ${chain.leafSerial}` });
    if (revoked?.licenseIds.has(payload.licenseId)) throw refuse('LIC_REVOKED', { what: `license ${payload.licenseId}` });
    if (mode === 'install' && issued > now.getTime() + this.opts.maxFutureMinutes * 60_000)
      throw refuse('LIC_ISSUED_IN_FUTURE', { issuedAt: payload.issuedAt, now: now.toISOString() });
    if (payload.systemId.toUpperCase() !== this.opts.systemId.toUpperCase())
      throw refuse('LIC_SYSTEM_ID_MISMATCH', { licenseSystemId: payload.systemId, systemId: this.opts.systemId });
    if (payload.updateServiceUntil < this.opts.buildDate)
      throw refuse('LIC_UPDATE_SERVICE_ENDED', { updateServiceUntil: payload.updateServiceUntil, buildDate: this.opts.buildDate });
    return { payload, text: str };
  }

  /** The armour, the chain from a trusted root, the certificates' validity and the signature: what a license and a revocation list share. */
  private verifySigned(text: string | Buffer, now: Date, mode: VerifyMode, kind: SignedKind) {
    const bytes = typeof text === 'string' ? Buffer.byteLength(text) : text.length;
    if (bytes > MAX_LICENSE_BYTES) throw refuse('LIC_TOO_LARGE', { bytes, limit: MAX_LICENSE_BYTES });
    const str = typeof text === 'string' ? text : text.toString('utf8');
    if (typeof text !== 'string' && !Buffer.from(str, 'utf8').equals(text)) throw refuse('LIC_MALFORMED', { reason: 'it is not text' });

    let file;
    try {
      file = parseLicenseFile(str, kind);
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      if (e.kind === 'empty') throw refuse('LIC_EMPTY');
      if (e.kind === 'truncated') throw refuse('LIC_TRUNCATED');
      throw refuse('LIC_MALFORMED', { reason: e.message });
    }

    const chain = this.chain(file.certificateDer!);
    if (!chain.ok) throw chain.refusal;
    if (mode === 'install') {
      const t = now.getTime();
      if (chain.windows.some((w) => t > w.notAfter)) throw refuse('LIC_CERT_INVALID', { reason: 'the signing certificate has expired' });
      if (chain.windows.some((w) => t < w.notBefore)) throw refuse('LIC_CERT_INVALID', { reason: 'the signing certificate is not valid yet' });
    }

    // PKCS#1 v1.5: OpenSSL rebuilds the DigestInfo for SHA-256 and compares it
    // whole, so a signature naming MD5 or SHA-1 (or with trailing bytes) fails.
    let signatureOk = false;
    try {
      signatureOk = cryptoVerify('sha256', file.payloadBytes, { key: chain.leafKey, padding: constants.RSA_PKCS1_PADDING }, file.signature);
    } catch {
      signatureOk = false;
    }
    if (!signatureOk) throw refuse('LIC_SIGNATURE_INVALID');
    return { file, chain, str };
  }

  /**
   * The vendor's revocation list (signing certificate serials and license ids),
   * signed like a license. Its own signing certificate must not be revoked by
   * the list in force.
   */
  verifyRevocations(text: string, now: Date, mode: VerifyMode = 'install'): RevocationList {
    const { file, chain } = this.verifySigned(text, now, mode, 'revocations');
    let o: Record<string, unknown> | null;
    try {
      o = JSON.parse(file.payloadBytes.toString('utf8'));
    } catch {
      throw refuse('LIC_MALFORMED', { reason: 'the revocation list is not JSON' });
    }
    const strings = (v: unknown, re: RegExp) => Array.isArray(v) && v.length <= 100_000 && v.every((x) => typeof x === 'string' && re.test(x));
    if (!o || typeof o !== 'object' || o.format !== 1 || !parseUtcTime(o.issuedAt) || !strings(o.serials, /^[0-9A-F]{1,64}$/) || !strings(o.licenseIds, /^\S{1,100}$/))
      throw refuse('LIC_MALFORMED', { reason: 'the revocation list does not have format 1 (issuedAt, serials, licenseIds)' });
    if (mode === 'install' && this.opts.revoked?.().serials.has(chain.leafSerial)) throw refuse('LIC_REVOKED', { what: `signing certificate ${chain.leafSerial}` });
    return { format: 1, issuedAt: o.issuedAt as string, serials: o.serials as string[], licenseIds: o.licenseIds as string[] };
  }

  private chain(ders: Buffer[]): ChainVerdict {
    const key = ders.map((d) => d.toString('base64')).join('.');
    let v = this.chains.get(key);
    if (!v) {
      try {
        v = this.judgeChain(ders);
      } catch (e) {
        if ((e as { name?: string }).name !== 'Refusal') throw e;
        v = { ok: false, refusal: e as Refusal };
      }
      if (this.chains.size >= CHAINS_KEPT) this.chains.delete(this.chains.keys().next().value!);
      this.chains.set(key, v);
    }
    return v;
  }

  private judgeChain(ders: Buffer[]): ChainVerdict {
    if (ders.length > MAX_CHAIN) throw refuse('LIC_CERT_INVALID', { reason: `more than ${MAX_CHAIN} certificates` });
    const invalid = (reason: string) => refuse('LIC_CERT_INVALID', { reason });
    let chain: Checked[];
    try {
      chain = ders.map((der) => ({ cert: new X509Certificate(der), facts: certFacts(der) }));
    } catch {
      throw invalid('the certificate cannot be read');
    }
    // A file may include the root itself; it proves nothing, the configured one decides.
    while (chain.length > 1 && this.roots.some((r) => r.cert.raw.equals(chain[chain.length - 1]!.cert.raw))) chain.pop();
    const top = chain[chain.length - 1]!;
    const root = this.roots.find((r) => top.cert.checkIssued(r.cert));
    if (!root) throw refuse('LIC_UNKNOWN_CA', { issuer: cnOf(top.cert.issuer) });

    // From the root down: each certificate is checked with a key already trusted.
    let issuer = root;
    for (let i = chain.length - 1; i >= 0; i--) {
      const c = chain[i]!;
      const weak = WEAK_ALGORITHMS.get(c.facts.signatureAlgorithm);
      if (weak) throw invalid(`a certificate is signed with ${weak}, which is not accepted`);
      if (!SIGNATURE_ALGORITHMS.has(c.facts.signatureAlgorithm)) throw invalid(`a certificate uses the signature algorithm ${c.facts.signatureAlgorithm}, which is not accepted`);
      if (i < chain.length - 1 && !c.cert.checkIssued(issuer.cert)) throw invalid('the certificates do not form a chain');
      // Altered, or issued by a look-alike of a trusted CA (its name, not its key).
      if (!c.cert.verify(issuer.cert.publicKey)) throw invalid(`a certificate was not signed by the key of "${cnOf(issuer.cert.subject)}"`);
      if (c.facts.unknownCritical.length) throw invalid(`unknown critical extension ${c.facts.unknownCritical[0]}`);
      const keyProblem = rsaKeyProblem(c.cert.publicKey);
      if (keyProblem) throw invalid(keyProblem);
      if (i > 0) {
        if (!c.facts.ca || !c.facts.keyUsage?.keyCertSign) throw invalid('an intermediate certificate is not a CA');
      } else {
        if (c.facts.ca) throw invalid('a CA certificate cannot sign licenses');
        if (!c.facts.keyUsage?.digitalSignature) throw invalid('the signing certificate is not made for digital signatures (keyUsage)');
        if (!c.facts.extKeyUsage?.includes(LICENSE_SIGNING_EKU)) throw invalid('the signing certificate is not made for signing pbxd licenses (extended key usage)');
      }
      issuer = c;
    }
    const windows = [chain[0]!, ...chain.slice(1), root].map((c) => ({ notBefore: c.facts.notBefore, notAfter: c.facts.notAfter }));
    return { ok: true, leafKey: chain[0]!.cert.publicKey, leafSerial: chain[0]!.cert.serialNumber.toUpperCase(), windows };
  }
}

function cnOf(name: string): string {
  return /(?:^|\n)CN=([^\n]*)/.exec(name)?.[1] ?? 'an unknown authority';
}

/** RSA 2048–4096 bits with exponent 65537: read from the key's header, before the key is ever used. */
function rsaKeyProblem(key: KeyObject): string | null {
  if (key.asymmetricKeyType !== 'rsa') return `a ${key.asymmetricKeyType ?? 'unknown'} key is not accepted (RSA only)`;
  const d = key.asymmetricKeyDetails!;
  const bits = d.modulusLength ?? 0;
  if (bits < RSA_BITS.min || bits > RSA_BITS.max) return `an RSA key of ${bits} bits is not accepted (${RSA_BITS.min} to ${RSA_BITS.max})`;
  if (d.publicExponent !== 65537n) return `an RSA exponent of ${d.publicExponent} is not accepted (65537)`;
  return null;
}
