/**
 * The license file format, version 1.
 *
 *   -----BEGIN PBXD LICENSE-----              base64 of the payload: UTF-8 JSON
 *   -----END PBXD LICENSE-----
 *   -----BEGIN PBXD LICENSE SIGNATURE-----    RSA PKCS#1 v1.5 / SHA-256 over
 *   -----END PBXD LICENSE SIGNATURE-----      exactly those payload bytes
 *   -----BEGIN CERTIFICATE-----               the signing certificate, then any
 *   -----END CERTIFICATE-----                 intermediates, up to a vendor root
 *
 * The parser is strict (64-column canonical base64, nothing outside the blocks,
 * LF or CRLF line ends): any flipped byte makes the file either unreadable or
 * different in content, and then the signature no longer matches.
 */
export const FORMAT_VERSION = 1;
export const MAX_LICENSE_BYTES = 64 * 1024;

/** Requirements a license may state; one this build does not know → "needs a newer pbxd". */
export const KNOWN_REQUIREMENTS: ReadonlySet<string> = new Set(['quantities', 'per-user-licenses', 'provisional']);

export interface Operator {
  company: string;
  street?: string;
  postcode?: string;
  city?: string;
}

export interface LicensePayload {
  format: number;
  licenseId: string;
  edition: string;
  trial: boolean;
  kind: 'final' | 'provisional';
  operator: Operator;
  systemId: string;
  issuedAt: string;
  validFrom: string;
  expiresAt: string | null;
  updateServiceUntil: string;
  /** Server-level counts: users, devices.cisco, devices.unify, trunkchannels, autoattendants, … */
  quantities: Record<string, number>;
  /** Per-user license codes and how many users may hold each: clientbundle, vap, add-ons. */
  perUser: Record<string, number>;
  /** Display names for codes this build has no name for. */
  labels?: Record<string, { en: string; de: string }>;
  requires?: string[];
}

/** Names of the codes pbxd knows; any other code in a file shows with its own label or its code. */
export const CODE_LABELS: Record<string, { en: string; de: string }> = {
  users: { en: 'User seats', de: 'Benutzer' },
  'devices.cisco': { en: 'Cisco devices', de: 'Cisco-Geräte' },
  'devices.unify': { en: 'Unify devices', de: 'Unify-Geräte' },
  trunkchannels: { en: 'SIP trunk channels', de: 'SIP-Trunk-Kanäle' },
  autoattendants: { en: 'Auto attendants', de: 'Automatische Vermittlungen' },
  clientbundle: { en: 'Client bundle', de: 'Clientbundle' },
  vap: { en: 'Operator console', de: 'Vermittlungsarbeitsplatz' },
  voicemail: { en: 'Voicemail', de: 'Voicemail' },
  callrecording: { en: 'Call recording', de: 'Anrufaufzeichnung' },
  pinprotection: { en: 'PIN protection', de: 'PIN-Schutz' },
};

export function labelOf(code: string, payload?: LicensePayload | null): { en: string; de: string } {
  return CODE_LABELS[code] ?? payload?.labels?.[code] ?? { en: code, de: code };
}

const BLOCK_LICENSE = 'PBXD LICENSE';
const BLOCK_SIGNATURE = 'PBXD LICENSE SIGNATURE';
const BLOCK_CERT = 'CERTIFICATE';

export interface ParsedLicenseFile {
  payloadBytes: Buffer;
  signature: Buffer;
  /** PEM texts: the signing certificate first, then intermediates. */
  certificates: string[];
}

export class FormatError extends Error {
  constructor(
    readonly kind: 'empty' | 'malformed' | 'truncated',
    message: string,
  ) {
    super(message);
  }
}

function wrap64(b64: string): string {
  return b64.match(/.{1,64}/g)!.join('\n');
}

export function armour(label: string, bytes: Buffer): string {
  return `-----BEGIN ${label}-----\n${wrap64(bytes.toString('base64'))}\n-----END ${label}-----\n`;
}

export function encodeLicenseFile(f: ParsedLicenseFile): string {
  return armour(BLOCK_LICENSE, f.payloadBytes) + armour(BLOCK_SIGNATURE, f.signature) + f.certificates.map((c) => c.replace(/\r\n/g, '\n').trim() + '\n').join('');
}

const B64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strictly split a license file into its blocks. Throws FormatError. */
export function parseLicenseFile(text: string): ParsedLicenseFile {
  if (text.trim() === '') throw new FormatError('empty', 'empty');
  if (text.includes('\r')) {
    // CRLF is accepted only as a whole (a mail client's rewrite), never a stray CR.
    if (/\r(?!\n)/.test(text) || /(?<!\r)\n/.test(text)) throw new FormatError('malformed', 'mixed line endings');
    text = text.replace(/\r\n/g, '\n');
  }
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  const blocks: Array<{ label: string; body: Buffer; lines: string[] }> = [];
  let i = 0;
  while (i < lines.length) {
    const begin = /^-----BEGIN ([A-Z ]+)-----$/.exec(lines[i]!);
    if (!begin) throw new FormatError('malformed', i === 0 ? 'it does not start with a license block' : `unexpected text on line ${i + 1}`);
    const label = begin[1]!;
    const body: string[] = [];
    i++;
    while (i < lines.length && !lines[i]!.startsWith('-----')) body.push(lines[i++]!);
    if (i >= lines.length) throw new FormatError('truncated', `block ${label} has no end`);
    if (lines[i] !== `-----END ${label}-----`) throw new FormatError('malformed', `block ${label} ends with a wrong line`);
    i++;
    if (body.length === 0) throw new FormatError('malformed', `block ${label} is empty`);
    body.forEach((l, n) => {
      const last = n === body.length - 1;
      if (!B64_LINE.test(l) || (!last && l.length !== 64) || (last && (l.length === 0 || l.length > 64)))
        throw new FormatError('malformed', `block ${label} is not base64 in 64 columns`);
    });
    const joined = body.join('');
    const bytes = Buffer.from(joined, 'base64');
    if (bytes.toString('base64') !== joined) throw new FormatError('malformed', `block ${label} is not canonical base64`);
    blocks.push({ label, body: bytes, lines: body });
  }
  const [lic, sig, ...certs] = blocks;
  if (!lic || lic.label !== BLOCK_LICENSE) throw new FormatError('malformed', 'it does not start with a license block');
  if (!sig) throw new FormatError('truncated', 'the signature block is missing');
  if (sig.label !== BLOCK_SIGNATURE) throw new FormatError('malformed', 'the second block is not the signature');
  if (certs.length === 0) throw new FormatError('truncated', 'the certificate block is missing');
  if (certs.some((c) => c.label !== BLOCK_CERT)) throw new FormatError('malformed', 'unexpected block after the signature');
  return {
    payloadBytes: lic.body,
    signature: sig.body,
    certificates: certs.map((c) => `-----BEGIN CERTIFICATE-----\n${c.lines.join('\n')}\n-----END CERTIFICATE-----\n`),
  };
}

/** The payload's JSON, with keys sorted, as the issuer signs it. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
