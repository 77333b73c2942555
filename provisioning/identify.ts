import { normalizeMac, type Vendor } from '../daemon/core/devices.js';

/**
 * Who is asking, from the request line and User-Agent only (the WPI body is
 * read separately). Each vendor has its own request shape:
 *
 * - Cisco enterprise phones: no User-Agent, `GET /SEP<MAC>.cnf.xml` (after the
 *   `.sgn` variant and the trust lists CTLSEP/ITLSEP<MAC>.tlv, ITLFile.tlv), then
 *   MAC-less files (dial plan, ring list).
 * - Cisco MPP/3PCC: `Cisco-CP-8841-3PCC/11.3.7 (00562b043615)`, `GET /<mac>.xml`.
 * - Gigaset N670/N870 IP PRO: `Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605`, `GET /<mac>.xml`.
 * - Yealink W70B/W80B: `Yealink W70B 146.85.0.20 80:5e:c0:12:34:56`, `GET /<mac>.cfg`
 *   and the MAC-less common file `/y000000000146.cfg`.
 * - Snom M700/M900: `Snom-M900/06.50.0001 (000413aabbcc)` (MAC optional), `GET /<MAC>.xml`.
 * - Unify OpenScape Desk Phone CP / OpenStage: `POST /DeploymentService/LoginService` (WPI).
 */
export type FileKind =
  /** The device's own configuration: carries its line's credentials; takes a support license. */
  | 'config'
  /** A signed variant (.sgn) we do not produce: 404, the phone falls back to the plain file. */
  | 'signed'
  /** Trust lists (CTL/ITL): none on this appliance, 404. */
  | 'trust'
  /** A MAC-less file: same for every phone, never with credentials. */
  | 'common'
  | 'wpi';

export interface Identified {
  vendor: Vendor | null;
  model: string;
  firmware: string;
  /** 12 lower-case hex digits, or null for MAC-less files. */
  mac: string | null;
  kind: FileKind;
  /** The MAC-less file's name (common, trust). */
  name: string;
}

export type Rejection = { status: number; code: string; detail: string; miss: boolean };
export type IdResult = { ok: true; id: Identified } | ({ ok: false } & Rejection);

export const WPI_PATH = '/DeploymentService/LoginService';

/** Files served the same to every Cisco enterprise phone. */
export const CISCO_COMMON = new Set(['xmldefault.cnf.xml', 'dialplan.xml', 'distinctiveringlist.xml', 'ringlist.xml']);
const CISCO_TRUST_COMMON = new Set(['itlfile.tlv', 'ctlfile.tlv']);

interface UserAgent {
  vendor: Vendor;
  model: string;
  firmware: string;
  mac: string | null;
}

const UA_PATTERNS: Array<[Vendor, RegExp, (m: RegExpExecArray) => Omit<UserAgent, 'vendor'>]> = [
  ['cisco', /^Cisco-(CP-[\w-]+?)-3PCC\/(\S+)\s*\(([^)]*)\)/i, (m) => ({ model: `${m[1]}-3PCC`, firmware: m[2]!, mac: m[3]! })],
  ['gigaset', /^"?Gigaset ([\w ]+?)\/([\w.+-]+)(?:;([0-9A-Fa-f:]{12,17}))?/, (m) => ({ model: m[1]!, firmware: m[2]!, mac: m[3] ?? null })],
  ['yealink', /^Yealink (W\d\dB)\s+([\d.]+)(?:\s+([0-9a-fA-F:]{17}))?/, (m) => ({ model: m[1]!, firmware: m[2]!, mac: m[3] ?? null })],
  ['snom', /^(?:Snom[- ]?)?(M[79]00)[/ ]([\w.]+)(?:\s*\(([0-9a-fA-F:]{12,17})\))?/i, (m) => ({ model: m[1]!.toUpperCase(), firmware: m[2]!, mac: m[3] ?? null })],
];

/** undefined: no User-Agent we know; null-mac parts are resolved by the path. A MAC that is stated but malformed is an error. */
function parseUserAgent(ua: string): UserAgent | { bad: string } | undefined {
  for (const [vendor, re, pick] of UA_PATTERNS) {
    const m = re.exec(ua);
    if (!m) continue;
    const p = pick(m);
    if (p.mac === null) return { vendor, ...p };
    const mac = normalizeMac(p.mac);
    if (!mac) return { bad: p.mac };
    return { vendor, ...p, mac };
  }
  return undefined;
}

/**
 * The request target as a plain path, or a rejection. Percent-encoding is
 * undone up to three times (double encoding), and any form of "..",
 * backslash, NUL, control characters or an encoded slash is refused.
 */
export function cleanPath(url: string): { ok: true; path: string } | ({ ok: false } & Rejection) {
  const q = url.indexOf('?');
  const raw = q >= 0 ? url.slice(0, q) : url;
  const bad = (detail: string) => ({ ok: false as const, status: 400, code: 'PROV_BAD_PATH', detail, miss: true });
  if (!raw.startsWith('/') || raw.length > 512) return bad('not a plain path');
  let path = raw;
  for (let i = 0; i < 3 && path.includes('%'); i++) {
    try {
      path = decodeURIComponent(path);
    } catch {
      return bad('invalid percent-encoding');
    }
  }
  if (path.includes('%')) return bad('encoded more than three times');
  if (/\.\.|\\|\/\/|[\u0000-\u001f\u007f]/.test(path)) return bad('path traversal');
  if (path !== raw && path.slice(1).includes('/') && !raw.slice(1).includes('/')) return bad('encoded slash');
  if (/[^\x21-\x7e]/.test(path)) return bad('characters outside printable ASCII');
  return { ok: true, path };
}

const notFound = (detail: string): IdResult => ({ ok: false, status: 404, code: 'PROV_NOT_FOUND', detail, miss: true });
const badMac = (mac: string): IdResult => ({ ok: false, status: 400, code: 'PROV_BAD_MAC', detail: `malformed MAC "${mac.slice(0, 40)}"`, miss: true });

/**
 * Identify a GET request from its path and User-Agent. `knownVendor` looks up
 * a MAC in the device table (for a file name several vendors share).
 */
export function identify(path: string, userAgent: string | undefined, knownVendor: (mac: string) => Vendor | undefined): IdResult {
  if (path === WPI_PATH) return { ok: true, id: { vendor: 'unify', model: '', firmware: '', mac: null, kind: 'wpi', name: '' } };
  const ua = userAgent ? parseUserAgent(userAgent) : undefined;
  if (ua && 'bad' in ua) return badMac(ua.bad);
  const file = path.slice(1);
  const lower = file.toLowerCase();
  if (file.includes('/')) return notFound('no such file');

  // The same MAC stated twice (path and User-Agent) must agree.
  const withMac = (mac: string, vendor: Vendor | null, kind: FileKind, model = ua?.model ?? '', firmware = ua?.firmware ?? ''): IdResult => {
    if (ua?.mac && ua.mac !== mac) return { ok: false, status: 400, code: 'PROV_MAC_MISMATCH', detail: `path says ${mac}, User-Agent says ${ua.mac}`, miss: true };
    return { ok: true, id: { vendor, model, firmware, mac, kind, name: '' } };
  };

  let m = /^sep([^.]*)\.cnf\.xml(\.sgn)?$/i.exec(file);
  if (m) {
    const mac = /^[0-9a-f]{12}$/i.test(m[1]!) ? m[1]!.toLowerCase() : null;
    if (!mac) return badMac(m[1]!);
    return withMac(mac, 'cisco', m[2] ? 'signed' : 'config', ua?.vendor === 'cisco' ? ua.model : '');
  }
  m = /^(ctl|itl)sep([^.]*)\.tlv$/i.exec(file);
  if (m) {
    const mac = /^[0-9a-f]{12}$/i.test(m[2]!) ? m[2]!.toLowerCase() : null;
    if (!mac) return badMac(m[2]!);
    return withMac(mac, 'cisco', 'trust');
  }
  if (CISCO_TRUST_COMMON.has(lower)) return { ok: true, id: { vendor: 'cisco', model: '', firmware: '', mac: null, kind: 'trust', name: lower } };
  if (CISCO_COMMON.has(lower)) return { ok: true, id: { vendor: 'cisco', model: '', firmware: '', mac: null, kind: 'common', name: lower } };
  m = /^y000000000(\d{3})\.cfg$/i.exec(file);
  if (m) return { ok: true, id: { vendor: 'yealink', model: ua?.model ?? '', firmware: ua?.firmware ?? '', mac: null, kind: 'common', name: lower } };

  m = /^([0-9a-f:.-]+)\.(xml|cfg)$/i.exec(file);
  if (m) {
    const mac = normalizeMac(m[1]!);
    if (!mac) return badMac(m[1]!);
    const ext = m[2]!.toLowerCase();
    const vendor = ua?.vendor ?? knownVendor(mac);
    if (!vendor) return notFound('unknown device (no User-Agent we know, MAC not in the device table)');
    if ((vendor === 'yealink') !== (ext === 'cfg') || vendor === 'unify') return notFound(`no ${ext} file for ${vendor}`);
    return withMac(mac, vendor, 'config');
  }
  return notFound('no such file');
}
