import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { xml, type Rendered } from './render.js';
import type { Rejection } from './identify.js';

/**
 * Unify's workpoint interface (WPI), as spoken by OpenScape Desk Phone CP and
 * OpenStage phones: the phone POSTs a `WorkpointMessage` (its reason for
 * contact and items), the server answers a `DLSMessage` that echoes the
 * phone's nonce and names the next action: start-up → ReadAllItems → the
 * phone replies with its items → WriteItems → the phone confirms → CleanUp.
 * CleanUp is also the polite "nothing for you" (unknown, unlicensed).
 */
export interface WorkpointMessage {
  nonce: string;
  reason: string;
  /** For reason "reply-to": which action the phone answers, and how it went. */
  action: string;
  status: string;
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

export function parseWorkpointMessage(body: string): { ok: true; msg: WorkpointMessage } | ({ ok: false } & Rejection) {
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
  const root = doc.WorkpointMessage;
  const message = root?.Message;
  if (!message || typeof message !== 'object' || Array.isArray(message)) return reject('PROV_WPI_INVALID', 'not a WorkpointMessage with one Message');
  const nonce = message['@_nonce'];
  if (typeof nonce !== 'string' || !/^[0-9a-fA-F]{1,128}$/.test(nonce)) return reject('PROV_WPI_NONCE', nonce === undefined ? 'nonce missing' : 'nonce is not hexadecimal');
  const rfc = message.ReasonForContact;
  const reason = typeof rfc === 'string' ? rfc : typeof rfc?.['#text'] === 'string' ? rfc['#text'] : '';
  if (!reason) return reject('PROV_WPI_INVALID', 'ReasonForContact missing');
  const items = new Map<string, string>();
  for (const it of message.ItemList?.Item ?? []) {
    if (it && typeof it === 'object' && typeof it['@_name'] === 'string') items.set(it['@_name'], typeof it['#text'] === 'string' ? it['#text'].trim() : '');
  }
  return { ok: true, msg: { nonce, reason: reason.trim(), action: String(rfc?.['@_action'] ?? ''), status: String(rfc?.['@_status'] ?? ''), items } };
}

const NONCE_MARK = 'NONCEMARK0000';

/** A DLSMessage prepared once, with the nonce spliced in per answer (nonces are checked hex, so ASCII). */
export class DlsTemplate {
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
    return { body: this.parts[0] + nonce + this.parts[1], bytes: this.bytes + nonce.length, type: 'text/xml; charset=utf-8' };
  }
}

export const READ_ALL_ITEMS = new DlsTemplate('ReadAllItems');
export const CLEAN_UP = new DlsTemplate('CleanUp');
