import forge from 'node-forge';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appRoot } from '../config.js';
import { refuse } from '../kernel/refusal.js';
import { FORMAT_VERSION, FormatError, KNOWN_REQUIREMENTS, MAX_LICENSE_BYTES, parseLicenseFile, type LicensePayload } from './format.js';

export const DEVELOPMENT_ROOT = join(appRoot, 'daemon', 'licensing', 'development-root.pem');

export interface VerifierOptions {
  /** PEM files of vendor root CAs this appliance trusts. */
  trustedRoots: string[];
  systemId: string;
  /** The date this pbxd build was released (YYYY-MM-DD). */
  buildDate: string;
  maxFutureMinutes: number;
}

/** forge's chain errors (forge.pki.certificateError, missing from its typings). */
const CERT_ERROR = { unknownCa: 'forge.pki.UnknownCertificateAuthority', expired: 'forge.pki.CertificateExpired' };

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * Parse a certificate and insist that it re-encodes to exactly its bytes: the
 * outer signature algorithm of an X.509 certificate is not covered by its
 * signature, so a lenient parser would accept an altered byte there.
 */
function strictCertificate(pem: string): forge.pki.Certificate {
  const der = forge.pem.decode(pem)[0]!.body;
  const cert = forge.pki.certificateFromAsn1(forge.asn1.fromDer(der));
  if (forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes() !== der) throw new Error('certificate is not in canonical DER form');
  return cert;
}

/** Why a signed payload is unusable, or null. Checks shape only; dates and system id come later. */
export function payloadProblem(p: unknown): string | null {
  if (!p || typeof p !== 'object') return 'payload is not an object';
  const o = p as Record<string, unknown>;
  const isStr = (k: string) => typeof o[k] === 'string' && (o[k] as string).length > 0;
  for (const k of ['licenseId', 'edition', 'systemId']) if (!isStr(k)) return `${k} missing`;
  if (typeof o.trial !== 'boolean') return 'trial missing';
  if (o.kind !== 'final' && o.kind !== 'provisional') return 'kind must be final or provisional';
  for (const k of ['issuedAt', 'validFrom']) if (typeof o[k] !== 'string' || !ISO_TIME.test(o[k] as string)) return `${k} is not a UTC time`;
  if (o.expiresAt !== null && (typeof o.expiresAt !== 'string' || !ISO_TIME.test(o.expiresAt))) return 'expiresAt is not a UTC time';
  if (typeof o.updateServiceUntil !== 'string' || !ISO_DATE.test(o.updateServiceUntil)) return 'updateServiceUntil is not a date';
  const op = o.operator as Record<string, unknown> | undefined;
  if (!op || typeof op.company !== 'string') return 'operator missing';
  for (const k of ['quantities', 'perUser']) {
    const q = o[k];
    if (!q || typeof q !== 'object' || Array.isArray(q)) return `${k} missing`;
    for (const [code, n] of Object.entries(q)) {
      if (!/^[a-z][a-z0-9._-]{0,39}$/.test(code)) return `code "${code}" is not a valid code`;
      if (!Number.isInteger(n) || (n as number) < 0) return `quantity of ${code} is not a whole number`;
    }
  }
  if (o.requires !== undefined && (!Array.isArray(o.requires) || !o.requires.every((r) => typeof r === 'string'))) return 'requires is not a list';
  return null;
}

/**
 * Decides whether a license file is genuine and made for this appliance and
 * this build. It knows nothing of what is installed; every refusal carries its
 * own code. Dates of validity (not yet valid, expired) are judged by the caller,
 * which knows the grace period and whether a file may be scheduled.
 */
export class LicenseVerifier {
  private readonly caStore: forge.pki.CAStore;

  constructor(private readonly opts: VerifierOptions) {
    const roots = opts.trustedRoots.map((file) => {
      try {
        return forge.pki.certificateFromPem(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new Error(`trusted root ${file} cannot be read: ${(e as Error).message}`);
      }
    });
    this.caStore = forge.pki.createCaStore(roots);
  }

  /** SIGHUP: the tolerated clock skew for freshly issued files can change without a restart. */
  setMaxFutureMinutes(minutes: number): void {
    this.opts.maxFutureMinutes = minutes;
  }

  verify(text: string | Buffer, now: Date): { payload: LicensePayload; text: string } {
    const bytes = typeof text === 'string' ? Buffer.byteLength(text) : text.length;
    if (bytes > MAX_LICENSE_BYTES) throw refuse('LIC_TOO_LARGE', { bytes, limit: MAX_LICENSE_BYTES });
    const str = typeof text === 'string' ? text : text.toString('utf8');
    if (typeof text !== 'string' && !Buffer.from(str, 'utf8').equals(text)) throw refuse('LIC_MALFORMED', { reason: 'it is not text' });

    let file;
    try {
      file = parseLicenseFile(str);
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      if (e.kind === 'empty') throw refuse('LIC_EMPTY');
      if (e.kind === 'truncated') throw refuse('LIC_TRUNCATED');
      throw refuse('LIC_MALFORMED', { reason: e.message });
    }

    let chain: forge.pki.Certificate[];
    try {
      chain = file.certificates.map(strictCertificate);
    } catch (e) {
      throw refuse('LIC_CERT_INVALID', { reason: 'the certificate cannot be read' });
    }
    const leaf = chain[0]!;

    // The signature first: a file whose bytes were changed is "altered", whatever else is wrong with it.
    let signatureOk = false;
    try {
      const md = forge.md.sha256.create();
      md.update(file.payloadBytes.toString('binary'));
      signatureOk = (leaf.publicKey as forge.pki.rsa.PublicKey).verify(md.digest().bytes(), file.signature.toString('binary'));
    } catch {
      signatureOk = false;
    }
    if (!signatureOk) throw refuse('LIC_SIGNATURE_INVALID');

    let payload: LicensePayload;
    try {
      payload = JSON.parse(file.payloadBytes.toString('utf8'));
    } catch {
      throw refuse('LIC_MALFORMED', { reason: 'its contents are not JSON' });
    }
    if (!payload || typeof payload !== 'object' || typeof payload.format !== 'number') throw refuse('LIC_MALFORMED', { reason: 'format version missing' });
    const issuedAt = typeof payload.issuedAt === 'string' && ISO_TIME.test(payload.issuedAt) ? new Date(payload.issuedAt) : now;
    this.verifyChain(chain, issuedAt);

    const unknown = [
      ...(payload.format > FORMAT_VERSION ? [`format ${payload.format}`] : []),
      ...(Array.isArray(payload.requires) ? payload.requires.filter((r) => !KNOWN_REQUIREMENTS.has(r)) : []),
    ];
    if (unknown.length) throw refuse('LIC_NEEDS_NEWER_PBXD', { unknown });
    const problem = payloadProblem(payload);
    if (problem) throw refuse('LIC_MALFORMED', { reason: problem });

    const skewMs = this.opts.maxFutureMinutes * 60_000;
    if (new Date(payload.issuedAt).getTime() > now.getTime() + skewMs)
      throw refuse('LIC_ISSUED_IN_FUTURE', { issuedAt: payload.issuedAt, now: now.toISOString() });
    if (payload.systemId.toUpperCase() !== this.opts.systemId.toUpperCase())
      throw refuse('LIC_SYSTEM_ID_MISMATCH', { licenseSystemId: payload.systemId, systemId: this.opts.systemId });
    if (payload.updateServiceUntil < this.opts.buildDate)
      throw refuse('LIC_UPDATE_SERVICE_ENDED', { updateServiceUntil: payload.updateServiceUntil, buildDate: this.opts.buildDate });
    return { payload, text: str };
  }

  /** The signing certificate must chain to a trusted root and have been valid when the license was issued. */
  private verifyChain(chain: forge.pki.Certificate[], issuedAt: Date): void {
    const leaf = chain[0]!;
    const bc = leaf.getExtension('basicConstraints') as { cA?: boolean } | null;
    if (bc?.cA) throw refuse('LIC_CERT_INVALID', { reason: 'a CA certificate cannot sign licenses' });
    try {
      forge.pki.verifyCertificateChain(this.caStore, chain, { validityCheckDate: issuedAt });
    } catch (e) {
      const err = e as { error?: string; message?: string };
      if (err.error === CERT_ERROR.unknownCa) {
        const issuer = chain[chain.length - 1]!.issuer.getField('CN')?.value ?? 'an unknown authority';
        throw refuse('LIC_UNKNOWN_CA', { issuer: String(issuer) });
      }
      if (err.error === CERT_ERROR.expired)
        throw refuse('LIC_CERT_INVALID', { reason: 'the signing certificate was not valid when the license was issued' });
      throw refuse('LIC_CERT_INVALID', { reason: err.message ?? 'the certificate chain is broken' });
    }
  }
}
