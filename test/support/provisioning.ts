import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { XMLParser } from 'fast-xml-parser';
import type { TestDaemon } from './daemon.js';

export interface PhoneReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * Requests shaped exactly like the devices': node:http sends only the headers
 * given here (plus Host), so a Cisco enterprise phone has no User-Agent.
 */
export function phoneRequest(
  address: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; tls?: { ca: string }; from?: string },
): Promise<PhoneReply> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const mod = opts.tls ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      { host, port, method: opts.method ?? 'GET', path: opts.path, headers: { connection: 'close', ...opts.headers }, agent: false, ...(opts.from ? { localAddress: opts.from } : {}), ...(opts.tls ? { ca: opts.tls.ca, servername: 'localhost' } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The HTTP provisioning port (Cisco, DECT). */
export const prov = (d: TestDaemon, path: string, headers: Record<string, string> = {}, method = 'GET', from?: string) =>
  phoneRequest(d.listeners.provisioning_http!, { path, headers, method, from });

/** The appliance CA the phones are given (created at first start). */
export const applianceCa = (d: TestDaemon) => readFileSync(join(d.dataDir, 'tls', 'ca.crt'), 'utf8');

/** A WPI message to port 18443 over TLS, verified against the appliance CA. */
export const wpi = (d: TestDaemon, body: string, headers: Record<string, string> = {}) =>
  phoneRequest(d.listeners.wpi!, {
    method: 'POST',
    path: '/DeploymentService/LoginService',
    headers: { 'content-type': 'text/xml; charset=utf-8', 'user-agent': 'OpenStage', 'content-length': String(Buffer.byteLength(body)), ...headers },
    body,
    tls: { ca: applianceCa(d) },
  });

/** A Unify phone's WorkpointMessage. */
export function workpoint(nonce: string | null, reason: string, items: Record<string, string>, attrs = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<WorkpointMessage xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.siemens.com/DLS" xmlns="http://www.siemens.com/DLS">
  <Message${nonce === null ? '' : ` nonce="${nonce}"`} maxItems="-1">
    <ReasonForContact${attrs}>${reason}</ReasonForContact>
    <ItemList>
${Object.entries(items).map(([k, v]) => `      <Item name="${k}">${v}</Item>`).join('\n')}
    </ItemList>
  </Message>
</WorkpointMessage>`;
}

/** A server's DLSMessage, read as the phone reads it. */
export interface DlsAnswer {
  action: string;
  nonce: string;
  items: Record<string, string>;
  /** The session cookie to send back (name=value), if the answer set one. */
  cookie: string | undefined;
}

export function dls(r: PhoneReply): DlsAnswer {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, isArray: (n) => n === 'Item' }).parse(r.text);
  const msg = doc.DLSMessage?.Message;
  if (!msg) throw new Error(`not a DLSMessage (${r.status}): ${r.text.slice(0, 200)}`);
  const items = Object.fromEntries((msg.ItemList?.Item ?? []).map((i: any) => [i.name, String(i['#text'] ?? '')]));
  const set = r.headers['set-cookie']?.[0];
  return { action: msg.Action, nonce: msg.nonce, items, cookie: set?.split(';')[0] };
}

export const unifyItems = (mac: string) => ({ 'mac-addr': mac, 'device-type': 'OpenScape Desk Phone CP600', 'software-version': 'V1 R7.2.0', 'contact-me-uri': 'http://127.0.0.1:8085/contact_dls.html/ContactDLS' });

/** Cisco enterprise boot: trust lists, signed then plain configuration, then MAC-less files. */
export const ciscoBootPaths = (mac: string) => [
  `/CTLSEP${mac}.tlv`,
  `/ITLSEP${mac}.tlv`,
  '/ITLFile.tlv',
  `/SEP${mac}.cnf.xml.sgn`,
  `/SEP${mac}.cnf.xml`,
  '/dialplan.xml',
  '/DistinctiveRingList.xml',
];

export async function ciscoBoot(d: TestDaemon, mac: string): Promise<PhoneReply[]> {
  const out: PhoneReply[] = [];
  for (const p of ciscoBootPaths(mac)) out.push(await prov(d, p));
  return out;
}

/** A user through the users API (the device's line is made for a user that exists). */
export async function addUser(d: TestDaemon, userName: string, firstName = 'Test', lastName = userName, extension: string | null = null): Promise<void> {
  const r = await d.request('POST', '/api/v1/users', { body: { userName, firstName, lastName, ...(extension ? { extension } : {}) } });
  if (r.status !== 201) throw new Error(`adding user ${userName} failed: ${r.text}`);
}

export async function devices(d: TestDaemon): Promise<any[]> {
  return (await d.request('GET', '/api/v1/devices')).json.devices;
}

export async function device(d: TestDaemon, mac: string): Promise<any> {
  return (await devices(d)).find((x) => x.mac === mac.toLowerCase().replace(/[^0-9a-f]/g, ''));
}

export async function assign(d: TestDaemon, mac: string, userName: string): Promise<any> {
  const r = await d.request('POST', `/api/v1/devices/${mac}/assign`, { body: { userName } });
  if (r.status !== 200) throw new Error(`assign failed: ${r.text}`);
  return r.json;
}

export async function addDevice(d: TestDaemon, mac: string, vendor: string, model = ''): Promise<void> {
  const r = await d.request('POST', '/api/v1/devices', { body: { mac, vendor, model } });
  if (r.status !== 201) throw new Error(`add failed: ${r.text}`);
}

export async function events(d: TestDaemon): Promise<any[]> {
  return (await d.request('GET', '/api/v1/provisioning/events?limit=1000')).json.events;
}

export function used(status: any, code: string): { used: number; total: number } {
  const c = status.codes.find((x: any) => x.code === code);
  return { used: c.used, total: c.total };
}

/** The device's generated SIP password, read from the database (the API never returns it). */
export async function sipPassword(d: TestDaemon, mac: string): Promise<string> {
  const db = new sqlite3.Database(join(d.dataDir, 'pbxd.db'), sqlite3.OPEN_READONLY);
  const row = await new Promise<any>((resolve, reject) => db.get('SELECT sip_password FROM devices WHERE mac = ?', [mac.toLowerCase()], (e, r) => (e ? reject(e) : resolve(r))));
  await new Promise<void>((r) => db.close(() => r()));
  return row?.sip_password ?? '';
}
