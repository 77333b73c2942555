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
 * Inside the blocks the parser is strict (64-column canonical base64): any
 * flipped byte there makes the file either unreadable or different in content,
 * and then the signature no longer matches. Around them it is forgiving (see
 * parseLicenseFile). docs/license-file.md describes the format for vendors.
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
  /** A rehost license: the system id of the appliance whose data this one may carry on. */
  rehostOf?: string;
}

/** A payload as the rest of pbxd holds it: its code dictionaries without a prototype. */
export function readPayload(p: LicensePayload): LicensePayload {
  return { ...p, quantities: codeDict(p.quantities), perUser: codeDict(p.perUser), ...(p.labels ? { labels: codeDict(p.labels) } : {}) };
}

/** Names of the codes pbxd knows; any other code in a file shows with its own label or its code. */
const CODE_LABELS: Record<string, { en: string; de: string }> = codeDict({
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
});

export function labelOf(code: string, payload?: LicensePayload | null): { en: string; de: string } {
  const own = payload?.labels && Object.hasOwn(payload.labels, code) ? payload.labels[code] : undefined;
  return CODE_LABELS[code] ?? own ?? { en: code, de: code };
}

const BLOCK_CERT = 'CERTIFICATE';

/** The two kinds of signed file: a license, and the vendor's revocation list (same shape, its own labels). */
const SIGNED_KINDS = {
  license: { payload: 'PBXD LICENSE', signature: 'PBXD LICENSE SIGNATURE', name: 'a license block' },
  revocations: { payload: 'PBXD REVOCATION LIST', signature: 'PBXD REVOCATION LIST SIGNATURE', name: 'a revocation list block' },
} as const;
export type SignedKind = keyof typeof SIGNED_KINDS;

/**
 * A license file may carry the vendor's revocation list after its own blocks:
 * split there (everything from the list's first line on is the list).
 */
export function splitRevocations(text: string): { license: string; revocations: string | null } {
  const at = text.search(/^-----BEGIN PBXD REVOCATION LIST-----[ \t\r]*$/m);
  return at < 0 ? { license: text, revocations: null } : { license: text.slice(0, at), revocations: text.slice(at) };
}

export interface RevocationList {
  format: number;
  issuedAt: string;
  /** Signing certificate serial numbers (upper-case hex). */
  serials: string[];
  licenseIds: string[];
}

export interface ParsedLicenseFile {
  payloadBytes: Buffer;
  signature: Buffer;
  /** PEM texts: the signing certificate first, then intermediates. */
  certificates: string[];
  /** The same certificates as DER bytes (absent when a file is being built). */
  certificateDer?: Buffer[];
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

export function encodeLicenseFile(f: ParsedLicenseFile, kind: SignedKind = 'license'): string {
  return armour(SIGNED_KINDS[kind].payload, f.payloadBytes) + armour(SIGNED_KINDS[kind].signature, f.signature) + f.certificates.map((c) => c.replace(/\r\n/g, '\n').trim() + '\n').join('');
}

const B64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;
const BEGIN_LINE = /^-----BEGIN ([A-Z ]+)-----$/;

/**
 * Split a license file into its blocks. Throws FormatError.
 *
 * Forgiving around the blocks, strict inside them: a UTF-8 byte order mark, CRLF
 * line ends, spaces or tabs at line ends and text before, between or after the
 * blocks (a license pasted into a mail) are accepted, because the signature
 * covers exactly the payload bytes and none of that. Inside a block only
 * canonical base64 in 64 columns is; any line starting with five dashes outside
 * a block must begin one, so a damaged BEGIN line cannot hide a block as "text".
 */
export function parseLicenseFile(text: string, kind: SignedKind = 'license'): ParsedLicenseFile {
  const labels = SIGNED_KINDS[kind];
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new FormatError('empty', 'empty');
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const l = lines[n]!;
    const last = l.charCodeAt(l.length - 1);
    if (last === 0x20 || last === 0x09 || last === 0x0d) lines[n] = l.replace(/[ \t\r]+$/, '');
  }
  const blocks: Array<{ label: string; body: Buffer; lines: string[] }> = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (!line.startsWith('-----')) {
      i++; // text around the blocks
      continue;
    }
    const begin = BEGIN_LINE.exec(line);
    if (!begin) throw new FormatError('malformed', blocks.length === 0 ? `it does not start with ${labels.name}` : `unexpected text on line ${i + 1}`);
    const label = begin[1]!;
    const start = ++i;
    while (i < lines.length && !lines[i]!.startsWith('-----')) i++;
    if (i >= lines.length) throw new FormatError('truncated', `block ${label} has no end`);
    if (lines[i] !== `-----END ${label}-----`) throw new FormatError('malformed', `block ${label} ends with a wrong line`);
    const body = lines.slice(start, i);
    i++;
    if (body.length === 0) throw new FormatError('malformed', `block ${label} is empty`);
    for (let n = 0; n < body.length; n++) {
      const l = body[n]!;
      const last = n === body.length - 1;
      if (!B64_LINE.test(l) || (!last && (l.length !== 64 || l.charCodeAt(63) === 0x3d)) || (last && (l.length === 0 || l.length > 64 || l.length % 4 !== 0)))
        throw new FormatError('malformed', `block ${label} is not base64 in 64 columns`);
    }
    // Canonical base64: only the last group of four can carry padding bits, so only it is written back and compared.
    const tail = body[body.length - 1]!.slice(-4);
    if (Buffer.from(tail, 'base64').toString('base64') !== tail) throw new FormatError('malformed', `block ${label} is not canonical base64`);
    blocks.push({ label, body: Buffer.from(body.join(''), 'base64'), lines: body });
  }
  const [lic, sig, ...certs] = blocks;
  if (!lic) throw new FormatError('malformed', `it does not contain ${labels.name}`);
  if (lic.label !== labels.payload) throw new FormatError('malformed', `it does not start with ${labels.name}`);
  if (!sig) throw new FormatError('truncated', 'the signature block is missing');
  if (sig.label !== labels.signature) throw new FormatError('malformed', 'the second block is not the signature');
  if (certs.length === 0) throw new FormatError('truncated', 'the certificate block is missing');
  if (certs.some((c) => c.label !== BLOCK_CERT)) throw new FormatError('malformed', 'unexpected block after the signature');
  return {
    payloadBytes: lic.body,
    signature: sig.body,
    certificates: certs.map((c) => `-----BEGIN CERTIFICATE-----\n${c.lines.join('\n')}\n-----END CERTIFICATE-----\n`),
    certificateDer: certs.map((c) => c.body),
  };
}

/**
 * A real UTC time as license files carry it ("2026-05-01T00:00:00Z", optional
 * fraction of up to milliseconds): every field in its range, the day in its
 * month, so "2026-13-01T00:00:00Z", "2026-02-30T…" or "…T24:00:00Z" (which
 * Date would roll over or turn into NaN) are not times.
 */
export function parseUtcTime(s: unknown): Date | null {
  const m = typeof s === 'string' ? UTC_TIME.exec(s) : null;
  if (!m) return null;
  const [y, mo, d, h, mi, se] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (h > 23 || mi > 59 || se > 59 || !realDay(y, mo, d)) return null;
  return new Date(Date.UTC(y, mo - 1, d, h, mi, se, m[7] ? Number(m[7].padEnd(3, '0')) : 0));
}

const UTC_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?Z$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function realDay(y: number, mo: number, d: number): boolean {
  if (mo < 1 || mo > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (mo === 2 && leap ? 29 : DAYS[mo - 1]!);
}

/** A real calendar date "YYYY-MM-DD". */
export function isCalendarDate(s: unknown): s is string {
  const m = typeof s === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(s) : null;
  return !!m && realDay(Number(m[1]), Number(m[2]), Number(m[3]));
}

/**
 * A dictionary keyed by license codes, without a prototype: a code named
 * "constructor" or "toString" is a key like any other, never an inherited member.
 */
export function codeDict<V>(from?: Record<string, V> | Iterable<[string, V]> | null): Record<string, V> {
  const out = Object.create(null) as Record<string, V>;
  if (!from) return out;
  for (const [k, v] of Symbol.iterator in Object(from) ? (from as Iterable<[string, V]>) : Object.entries(from)) out[k] = v;
  return out;
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
