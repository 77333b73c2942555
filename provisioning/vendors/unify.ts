import { randomBytes } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { inDaylightTime } from '../time-zone.js';
import { ntpOf, xml, XML_TYPE, type Dialogue, type DialogueTurn, type LineValues, type ProvisioningSettings, type Rendered, type Rejection, type VendorModule } from './vendor.js';

/**
 * Unify OpenScape Desk Phone CP and OpenStage phones, over the workpoint
 * interface (WPI) of the DLS developer's guide. The phone POSTs a
 * `WorkpointMessage` to /DeploymentService/LoginService (port 18443, TLS); the
 * server answers a `DLSMessage` naming the next action. A dialogue:
 *
 *   phone: start-up (items, mac-addr)        → server: ReadAllItems   (nonce N1, session cookie)
 *   phone: reply-to ReadAllItems, nonce N1   → server: WriteItems     (N2; the support license is taken here)
 *     … fragment="next"                      → server: GetNextFragment (N2), the rest follows
 *   phone: reply-to WriteItems, nonce N2     → server: CleanUp
 *   phone: busy (or a reply with status busy) → server: CleanUp with send-solicited=true (it calls again when idle)
 *
 * Each message may come on a new connection: the server keeps the dialogue by
 * the nonce it issued (and the cookie), never by the connection. A reply-to
 * with a nonce this server did not issue is refused. CleanUp is also the
 * polite "nothing for you" (unknown, unassigned, unlicensed, not a Unify MAC).
 */
const UNIFY_LICENSE = 'devices.unify';
export const WPI_PATH = '/DeploymentService/LoginService';
const WPI_COOKIE = 'pbxd-wpi';

/** Unify's (and Siemens Enterprise's) MAC prefixes; another MAC is not a Unify phone. */
const UNIFY_OUIS = ['0001e3', '001ae8'];

/** How long a dialogue waits for the phone's next message. */
const SESSION_MS = 120_000;
const MAX_SESSIONS = 20_000;

export interface WorkpointMessage {
  /** The phone's nonce attribute ('' when absent). */
  nonce: string;
  reason: string;
  /** For reason "reply-to": which action the phone answers, how it went, and whether more fragments follow. */
  action: string;
  status: string;
  fragment: string;
  items: Map<string, string>;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Entities are never expanded (a DOCTYPE is refused before parsing anyway).
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => name === 'Item',
});

const reject = (code: string, detail: string): { ok: false } & Rejection => ({ ok: false, status: 400, code, detail, miss: true });

function parseWorkpointMessage(body: string): { ok: true; msg: WorkpointMessage } | ({ ok: false } & Rejection) {
  // Refused before the parser sees it: no DOCTYPE, no entity declarations, so no expansion of any kind.
  if (/<!DOCTYPE|<!ENTITY/i.test(body)) return reject('PROV_XML_DOCTYPE', 'XML with a DOCTYPE or entity declaration');
  const valid = XMLValidator.validate(body);
  if (valid !== true) return reject('PROV_XML_MALFORMED', `malformed XML (${valid.err.msg.slice(0, 120)})`);
  let doc: Record<string, any>;
  try {
    doc = parser.parse(body) as Record<string, any>;
  } catch (e) {
    return reject('PROV_XML_MALFORMED', `malformed XML (${String(e).slice(0, 120)})`);
  }
  const message = doc.WorkpointMessage?.Message;
  if (!message || typeof message !== 'object' || Array.isArray(message)) return reject('PROV_WPI_INVALID', 'not a WorkpointMessage with one Message');
  const nonce = message['@_nonce'] ?? '';
  if (typeof nonce !== 'string' || (nonce !== '' && !/^[0-9a-fA-F]{1,128}$/.test(nonce))) return reject('PROV_WPI_NONCE', 'nonce is not hexadecimal');
  const rfc = message.ReasonForContact;
  const reason = typeof rfc === 'string' ? rfc : typeof rfc?.['#text'] === 'string' ? rfc['#text'] : '';
  if (!reason.trim()) return reject('PROV_WPI_INVALID', 'ReasonForContact missing');
  const items = new Map<string, string>();
  for (const it of message.ItemList?.Item ?? []) {
    if (it && typeof it === 'object' && typeof it['@_name'] === 'string') items.set(it['@_name'], typeof it['#text'] === 'string' ? it['#text'].trim() : '');
  }
  const attr = (n: string) => String(rfc?.[`@_${n}`] ?? '');
  return { ok: true, msg: { nonce, reason: reason.trim(), action: attr('action'), status: attr('status'), fragment: attr('fragment'), items } };
}

const NONCE_MARK = 'NONCEMARK0000';

/** A DLSMessage prepared once, with the nonce spliced in per answer (nonces are hex, so ASCII). */
class DlsTemplate {
  private readonly parts: [string, string];
  private readonly bytes: number;
  constructor(action: string, items: Array<[string, string | number]> = []) {
    const text = xml({
      DLSMessage: {
        '@_xmlns': 'http://www.siemens.com/DLS',
        '@_xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
        '@_xsi:schemaLocation': 'http://www.siemens.com/DLS',
        Message: {
          '@_nonce': NONCE_MARK,
          Action: action,
          ...(items.length ? { ItemList: { Item: items.map(([name, value]) => ({ '@_name': name, '#text': String(value) })) } } : {}),
        },
      },
    });
    const at = text.indexOf(NONCE_MARK);
    this.parts = [text.slice(0, at), text.slice(at + NONCE_MARK.length)];
    this.bytes = Buffer.byteLength(this.parts[0]) + Buffer.byteLength(this.parts[1]);
  }

  with(nonce: string): Rendered {
    return { body: this.parts[0] + nonce + this.parts[1], bytes: this.bytes + nonce.length, type: XML_TYPE };
  }
}

const READ_ALL_ITEMS = new DlsTemplate('ReadAllItems');
const GET_NEXT_FRAGMENT = new DlsTemplate('GetNextFragment');
const CLEAN_UP = new DlsTemplate('CleanUp');
const CLEAN_UP_SOLICITED = new DlsTemplate('CleanUp', [['send-solicited', 'true']]);

/** The items WriteItems sets: line, registrar (both item families the firmware lines read), time, language. */
function wpiItems(l: LineValues, s: ProvisioningSettings, now = Date.now()): Array<[string, string | number]> {
  const z = s.zone;
  return [
    ['e164', l.sipUser],
    ['sip-user-id', l.sipUser],
    ['sip-pwd', l.sipPassword],
    ['display-id-unicode', l.displayName],
    ['reg-addr', s.registrar],
    ['reg-port', s.sipPort],
    ['registrar-addr', s.registrar],
    ['registrar-port', s.sipPort],
    ['sgnl-gateway-addr', s.registrar],
    ['sgnl-gateway-port', s.sipPort],
    ['realm', s.registrar],
    ['sip-transport', s.transport.toUpperCase()],
    ['sntp-addr', ntpOf(s)],
    ['sntp-tz-offset', z.offset],
    ['auto-daylight-save', z.dst ? 'true' : 'false'],
    ['daylight-save', inDaylightTime(z, now) ? 'true' : 'false'],
    ['daylight-save-minutes', z.dst?.save ?? 0],
    ['language-iso', s.language],
  ];
}

type Step = 'open' | 'configure' | 'next-fragment' | 'close' | 'busy' | 'foreign';

interface Session {
  mac: string;
  model: string;
  firmware: string;
  cookie: string;
  expires: number;
}

const newNonce = () => randomBytes(16).toString('hex').toUpperCase();
const macDigits = (m: string) => m.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
const WPI_TYPES = /^(text|application)\/xml\b/i;

/** What each step answers: the next action for an eligible device, CleanUp otherwise. */
const STEP_LABEL: Record<Step, string> = {
  open: 'ReadAllItems', configure: 'WriteItems', 'next-fragment': 'GetNextFragment', close: 'CleanUp', busy: 'CleanUp (send-solicited)', foreign: 'CleanUp (not a Unify MAC)',
};

/**
 * The dialogues in progress, by the nonce this server issued last in each
 * (a new one per answer). Bounded: past MAX_SESSIONS the expired, then the
 * oldest, are dropped (their phones start again).
 *
 * - open: a fresh contact (start-up, local-changes, solicited, …); an eligible device is asked for its items
 * - configure: its items are in: an eligible device gets WriteItems (the license is taken before)
 * - next-fragment: more of its items follow: GetNextFragment
 * - close: the answer to WriteItems, or anything else: CleanUp
 * - busy: CleanUp with send-solicited=true
 * - foreign: a MAC outside Unify's prefixes: CleanUp, nothing recorded
 */
export class WpiDialogues implements Dialogue {
  readonly contentTypes = WPI_TYPES;
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.sessions.size;
  }

  turn(body: string, cookieHeader: string | undefined): DialogueTurn | ({ ok: false } & Rejection) {
    const parsed = parseWorkpointMessage(body);
    if (!parsed.ok) return parsed;
    const msg = parsed.msg;
    const cookie = cookieHeader ? new RegExp(`(?:^|;\\s*)${WPI_COOKIE}=([0-9a-f]{32})`).exec(cookieHeader)?.[1] : undefined;
    const now = this.now();
    const stated = msg.items.get('mac-addr');
    const busy = msg.reason === 'busy' || msg.status === 'busy';
    if (msg.reason !== 'reply-to' && !busy) {
      if (stated === undefined) return reject('PROV_WPI_INVALID', 'no mac-addr item');
      const s: Session = { mac: stated, model: msg.items.get('device-type') ?? '', firmware: msg.items.get('software-version') ?? '', cookie: randomBytes(16).toString('hex'), expires: now + SESSION_MS };
      const digits = macDigits(stated);
      if (digits.length !== 12 || /[^0-9a-fA-F:.-]/.test(stated)) return reject('PROV_BAD_MAC', `malformed MAC "${stated.slice(0, 40)}"`);
      if (!UNIFY_OUIS.includes(digits.slice(0, 6))) return this.answerFor(s, 'foreign', newNonce(), false);
      return this.answerFor(s, 'open', this.keep(s), true);
    }
    const session = msg.nonce ? this.sessions.get(msg.nonce) : undefined;
    if (session && session.expires < now) this.sessions.delete(msg.nonce);
    if (!session || session.expires < now) return reject('PROV_WPI_NONCE', msg.nonce ? 'a nonce this server did not issue, or whose dialogue ended' : 'a reply without a nonce');
    if (cookie !== undefined && cookie !== session.cookie) return reject('PROV_WPI_NONCE', 'the session cookie does not belong to this nonce');
    if (stated !== undefined && macDigits(stated) !== macDigits(session.mac)) return reject('PROV_MAC_MISMATCH', `the dialogue is with ${session.mac}, the message says ${stated.slice(0, 40)}`);
    this.sessions.delete(msg.nonce);
    if (busy) return this.answerFor(session, 'busy', newNonce(), false);
    if (msg.action === 'ReadAllItems' || msg.action === 'GetNextFragment') {
      const next = { ...session, expires: now + SESSION_MS };
      return this.answerFor(session, msg.fragment === 'next' ? 'next-fragment' : 'configure', this.keep(next), true);
    }
    return this.answerFor(session, 'close', newNonce(), false);
  }

  /** Issue a nonce for the dialogue's next message. */
  private keep(s: Session): string {
    if (this.sessions.size >= MAX_SESSIONS) {
      const now = this.now();
      for (const [k, v] of this.sessions) if (v.expires < now) this.sessions.delete(k);
      for (const k of this.sessions.keys()) {
        if (this.sessions.size < MAX_SESSIONS) break;
        this.sessions.delete(k);
      }
    }
    const nonce = newNonce();
    this.sessions.set(nonce, s);
    return nonce;
  }

  private answerFor(s: Session, step: Step, nonce: string, needsDevice: boolean): DialogueTurn {
    const headers: Record<string, string> = step === 'open' ? { 'set-cookie': `${WPI_COOKIE}=${s.cookie}; Path=/DeploymentService; Secure; HttpOnly` } : {};
    const sessions = this.sessions;
    return {
      ok: true,
      mac: s.mac,
      model: s.model,
      firmware: s.firmware,
      foreign: step === 'foreign',
      needsDevice,
      configures: step === 'configure',
      label: STEP_LABEL[step],
      headers,
      answer(eligible, line, settings) {
        if (step === 'busy') return CLEAN_UP_SOLICITED.with(nonce);
        if (!eligible || step === 'close' || step === 'foreign' || (step === 'configure' && !line)) {
          sessions.delete(nonce); // the dialogue ends here: its nonce answers nothing more
          return CLEAN_UP.with(nonce);
        }
        if (step === 'open') return READ_ALL_ITEMS.with(nonce);
        if (step === 'next-fragment') return GET_NEXT_FRAGMENT.with(nonce);
        return new DlsTemplate('WriteItems', wpiItems(line!, settings)).with(nonce);
      },
    };
  }
}

export const unify: VendorModule = {
  id: 'unify',
  vendor: 'unify',
  license: UNIFY_LICENSE,
  // WPI is TLS only and the phone is told an address and port, not a URL: no key; the nonce, the lock and the window protect it.
  security: { keyInUrl: false, tls: true, digest: false, setting: (u) => ({ where: { en: 'DLS address and port (Network → Update service)', de: 'DLS-Adresse und -Port (Netzwerk → Update-Dienst)' }, value: `${u.host}:${u.wpiPort}` }) },
  agent: () => null, // identified by the WPI path and the mac-addr item
  recognise: (req) => (req.path === WPI_PATH ? { kind: 'dialogue', mac: null, name: '' } : null),
  dialogue: () => new WpiDialogues(),
};
