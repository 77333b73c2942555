import { normalizeMac } from '../daemon/core/devices.js';
import type { AgentFacts, FileKind, Rejection, RequestFacts, VendorModule } from './vendors/vendor.js';

/** Who is asking: the module that takes the request, and what it is for. */
export interface Identified {
  module: VendorModule;
  kind: FileKind;
  /** 12 lower-case hex digits, or null for MAC-less files (and dialogues, whose MAC is in the body). */
  mac: string | null;
  /** The file's name (common, absent, index). */
  name: string;
  model: string;
  firmware: string;
  /** Whether the User-Agent is the vendor's own (unknown devices are recorded only then). */
  byAgent: boolean;
}

export type { Rejection };
type IdResult = { ok: true; id: Identified } | ({ ok: false } & Rejection);

/**
 * The request target as a plain path and its `mac` parameter, or a rejection.
 * Percent-encoding is undone up to three times (double encoding), and any form
 * of "..", backslash, NUL, control characters or an encoded slash is refused.
 */
export function cleanPath(url: string): { ok: true; path: string; macParam: string | null } | ({ ok: false } & Rejection) {
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
  const macParam = q >= 0 ? (/(?:^|&)mac=([0-9A-Fa-f:.-]{1,40})(?:&|$)/.exec(url.slice(q + 1))?.[1] ?? null) : null;
  return { ok: true, path, macParam };
}

const notFound = (detail: string): { ok: false } & Rejection => ({ ok: false, status: 404, code: 'PROV_NOT_FOUND', detail, miss: true });
const badMac = (mac: string): { ok: false } & Rejection => ({ ok: false, status: 400, code: 'PROV_BAD_MAC', detail: `malformed MAC "${mac.slice(0, 40)}"`, miss: true });

/**
 * Identify a request from its path, query and User-Agent by asking the
 * modules of the vendor list. A module that knows the User-Agent answers for
 * it; otherwise the first module that knows the path, where a path several
 * vendors share (`<mac>.xml`) goes to the module of the device the table
 * records (`recordedModule`).
 */
export function identify(modules: readonly VendorModule[], path: string, macParam: string | null, userAgent: string | undefined, recordedModule: (mac: string) => VendorModule | undefined): IdResult {
  const file = path.slice(1);
  const facts: RequestFacts = { path, file, lower: file.toLowerCase(), macParam, userAgent: userAgent ?? '' };
  let byAgent: { module: VendorModule; agent: AgentFacts } | undefined;
  if (userAgent) {
    for (const m of modules) {
      const agent = m.agent(userAgent);
      if (agent) {
        byAgent = { module: m, agent };
        break;
      }
    }
  }
  const agentMac = byAgent?.agent.mac ? normalizeMac(byAgent.agent.mac) : null;
  if (byAgent?.agent.mac && !agentMac) return badMac(byAgent.agent.mac);

  const candidates = byAgent ? [byAgent.module] : modules;
  const shared: { module: VendorModule; mac: string }[] = [];
  for (const m of candidates) {
    const r = m.recognise(facts, byAgent?.module === m ? byAgent.agent : null);
    if (!r) continue;
    if (r.kind !== 'dialogue' && file.includes('/')) break;
    let mac: string | null = null;
    if (r.mac !== null) {
      mac = normalizeMac(r.mac);
      if (!mac) return badMac(r.mac);
      if (agentMac && agentMac !== mac) return { ok: false, status: 400, code: 'PROV_MAC_MISMATCH', detail: `path says ${mac}, User-Agent says ${agentMac}`, miss: true };
    }
    if (r.shared) {
      shared.push({ module: m, mac: mac! });
      continue;
    }
    if (r.kind === 'index' && !mac) return notFound(`${r.name}: which device? (no MAC in the User-Agent or ?mac=)`);
    return { ok: true, id: { module: m, kind: r.kind, mac, name: r.name, model: byAgent?.agent.model ?? '', firmware: byAgent?.agent.firmware ?? '', byAgent: byAgent?.module === m } };
  }
  if (shared.length) {
    const recorded = recordedModule(shared[0]!.mac);
    const hit = recorded && shared.find((s) => s.module === recorded);
    if (!hit) return notFound('unknown device (no User-Agent we know, MAC not in the device table)');
    return { ok: true, id: { module: hit.module, kind: 'config', mac: hit.mac, name: '', model: '', firmware: '', byAgent: false } };
  }
  return notFound('no such file');
}
