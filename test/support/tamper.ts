import forge from 'node-forge';
import { randomBytes } from 'node:crypto';
import { canonicalJson, encodeLicenseFile, parseLicenseFile, type SignedKind } from '../../daemon/licensing/format.js';
import { createCa, loadCa, loadSigner, makeCert, payloadFromSpec, rsaKeyPair, signPayload, type CertOptions, type LicenseSpec, type Signer } from '../../tools/license-issuer.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAY, iso } from './daemon.js';

/**
 * Hostile license files, made with the development CA's keys (which a
 * dishonest admin has: they are in the repository) and with CAs of their own.
 */

/** A license signing certificate under the development root, with whatever oddity `opts` asks for. */
export function devSigner(opts: Partial<CertOptions> & { bits?: number; exponent?: number } = {}): Signer {
  const ca = loadCa();
  const keys = opts.publicKey ? { publicKey: opts.publicKey as forge.pki.rsa.PublicKey, privateKey: loadSigner().key } : rsaKeyPair(opts.bits ?? 2048, opts.exponent ?? 65537);
  const cert = makeCert({ subjectCN: 'hostile signing', issuer: ca.cert, issuerKey: ca.key, isCA: false, years: 5, ...opts, publicKey: keys.publicKey });
  return { key: keys.privateKey, chain: [forge.pki.certificateToPem(cert)] };
}

/** A public key of `bits` bits nobody has the private key of (a random odd modulus): it must never be used. */
export function hugePublicKey(bits: number): forge.pki.rsa.PublicKey {
  const n = randomBytes(bits / 8);
  n[0]! |= 0x80;
  n[n.length - 1]! |= 1;
  return forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger(n.toString('hex'), 16), new forge.jsbn.BigInteger('65537'));
}

/** A file whose signature is random bytes of `bytes` length (for keys nobody can sign with). */
export function withRandomSignature(payload: unknown, chain: string[], bytes: number): string {
  return encodeLicenseFile({ payloadBytes: Buffer.from(canonicalJson(payload)), signature: randomBytes(bytes), certificates: chain });
}

export function rearmour(text: string, change: (f: { payloadBytes: Buffer; signature: Buffer; certificates: string[]; certificateDer: Buffer[] }) => void, kind: SignedKind = 'license'): string {
  const f = parseLicenseFile(text, kind) as Required<ReturnType<typeof parseLicenseFile>>;
  change(f);
  return encodeLicenseFile({ payloadBytes: f.payloadBytes, signature: f.signature, certificates: f.certificates }, kind);
}

export const pemOf = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;

export function otherCa(name: string): { dir: string; signer: Signer } {
  const dir = mkdtempSync(join(tmpdir(), 'pbxd-ca-'));
  createCa(dir, name, new Date('2024-01-01'));
  return { dir, signer: loadSigner(dir) };
}

export interface TamperCase {
  name: string;
  text: string | Buffer;
  code: string;
  /** The exact English message, or a pattern of it. */
  message: string | RegExp;
}

/** Payload spec for `systemId` with sensible dates; `over` changes fields (also to invalid values). */
export function payload(systemId: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...(payloadFromSpec({ systemId } as LicenseSpec) as unknown as Record<string, unknown>), ...over };
}

export const sign = (p: unknown, s: Signer = loadSigner(), digest: 'sha256' | 'sha1' | 'md5' = 'sha256') => signPayload(p, s, digest);
export { DAY, iso };
