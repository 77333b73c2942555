import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
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

// ── Format validators: each parses a vendor's file as the device would and returns what it needs to register ──

/** The items a phone needs to register and show the right time and language. */
export interface Registration {
  registrar: string;
  port: string;
  transport: string;
  user: string;
  authName: string;
  password: string;
  displayName: string;
  /** The offset or zone as the vendor writes it. */
  time: string;
  /** The daylight-saving rule as the vendor writes it ('' = none; "by zone" where the device applies its own rule for a named zone). */
  dst: string;
  language: string;
}

const strictXml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, parseAttributeValue: false, isArray: (n) => ['param', 'Item', 'file'].includes(n) });

function parseXml(text: string, root: string): any {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new Error(`not well-formed XML: ${valid.err.msg}`);
  const doc = strictXml.parse(text);
  if (!doc[root]) throw new Error(`root element is not <${root}>: ${Object.keys(doc).join(', ')}`);
  return doc[root];
}

function need(o: Record<string, unknown>, keys: string[], what: string): void {
  const missing = keys.filter((k) => o[k] === undefined || o[k] === '');
  if (missing.length) throw new Error(`${what}: missing ${missing.join(', ')}`);
}

const text = (v: any): string => (v && typeof v === 'object' ? String(v['#text'] ?? '') : String(v ?? ''));

export const validate = {
  /** SEP<MAC>.cnf.xml: <device> with devicePool, sipProfile/sipLines/line[@button][@lineIndex]. */
  ciscoEnterprise(t: string): Registration & { dialTemplate: string; softKeyFile: string; locale: string | null; lineIndex: string } {
    const dev = parseXml(t, 'device');
    if (dev.deviceProtocol !== 'SIP') throw new Error('deviceProtocol is not SIP');
    const cm = dev.devicePool?.callManagerGroup?.members?.member?.callManager;
    const line = dev.sipProfile?.sipLines?.line;
    if (!cm || !line || Array.isArray(line)) throw new Error('no call manager or not one line');
    const r = {
      registrar: cm.processNodeName, port: cm.ports?.sipPort, transport: ({ '1': 'tcp', '2': 'udp', '4': 'tls' } as Record<string, string>)[dev.transportLayerProtocol] ?? '',
      user: line.name, authName: line.authName, password: line.authPassword, displayName: line.displayName,
      time: dev.devicePool.dateTimeSetting?.timeZone ?? '', dst: /Standard\/Daylight/.test(dev.devicePool.dateTimeSetting?.timeZone ?? '') ? 'by zone' : '',
      language: dev.userLocale?.name ?? 'built-in (English)',
      dialTemplate: dev.sipProfile.dialTemplate ?? '', softKeyFile: dev.sipProfile.softKeyFile ?? '', locale: dev.userLocale?.name ?? null, lineIndex: line['@_lineIndex'] ?? '',
    };
    need(r, ['registrar', 'port', 'transport', 'user', 'authName', 'password', 'displayName', 'time', 'dialTemplate', 'softKeyFile', 'lineIndex'], 'Cisco enterprise');
    return r;
  },
  /** <mac>.xml of an MPP phone: <flat-profile> of parameters, line ones suffixed _<n>_. */
  ciscoMpp(t: string, line = 1): Registration {
    const p = parseXml(t, 'flat-profile');
    const n = `_${line}_`;
    const [registrar, port] = String(p[`Proxy${n}`] ?? '').split(':');
    if (!/^GMT[+-]\d\d:\d\d$/.test(p.Time_Zone)) throw new Error(`Time_Zone not in the phone's form: ${p.Time_Zone}`);
    const rule = p.Daylight_Saving_Time_Enable === 'Yes' ? p.Daylight_Saving_Time_Rule : '';
    if (rule && !/^start=\d{1,2}\/-?\d{1,2}\/[1-7]\/\d{1,2}(:\d\d)?;end=\d{1,2}\/-?\d{1,2}\/[1-7]\/\d{1,2}(:\d\d)?;save=\d+(:\d\d)?$/.test(rule)) throw new Error(`Daylight_Saving_Time_Rule malformed: ${rule}`);
    const r = {
      registrar: registrar!, port: port ?? '5060', transport: String(p[`SIP_Transport${n}`] ?? '').toLowerCase(), user: p[`User_ID${n}`], authName: p[`Auth_ID${n}`],
      password: p[`Password${n}`], displayName: p[`Display_Name${n}`], time: p.Time_Zone, dst: rule, language: p.Language_Selection,
    };
    need(r, ['registrar', 'port', 'transport', 'user', 'authName', 'password', 'displayName', 'time', 'language'], 'Cisco MPP');
    return r;
  },
  /** <mac>.xml of a Gigaset base: <provisioning version="1.1"><nvm> of name/value params, add_hs per handset. */
  gigaset(t: string, line = 1): Registration & { accessCode: string } {
    const root = parseXml(t, 'provisioning');
    if (root['@_version'] !== '1.1') throw new Error('provisioning version is not 1.1');
    const params = Object.fromEntries((root.nvm?.param ?? []).map((p: any) => [p['@_name'], p['@_value']]));
    const hs = String(line).padStart(5, '0');
    const oper = [root.nvm?.oper].flat().find((o: any) => o?.['@_name'] === 'add_hs' && o['@_value'] === hs);
    if (!oper) throw new Error(`no add_hs for handset ${hs}`);
    const r = {
      registrar: params['SipProvider.0.RegServerAddress'], port: params['SipProvider.0.RegServerPort'], transport: ({ '1': 'udp', '2': 'tcp', '3': 'tls' } as Record<string, string>)[params['SipProvider.0.TransportProtocol']] ?? '',
      user: params[`SipAccount.${hs}.UserName`], authName: params[`SipAccount.${hs}.AuthName`], password: params[`SipAccount.${hs}.AuthPassword`], displayName: params[`SipAccount.${hs}.DisplayName`],
      time: params['DmGlobal.0.TimeZone'], dst: params['DmGlobal.0.TimeZone'] ? 'by zone' : '', language: params['DmGlobal.0.Language'], accessCode: params[`hs.${hs}.DECT_AC`],
    };
    need(r, ['registrar', 'port', 'transport', 'user', 'authName', 'password', 'displayName', 'time', 'language', 'accessCode'], 'Gigaset');
    if (!/^\d{4}$/.test(r.accessCode)) throw new Error(`access code is not four digits: ${r.accessCode}`);
    return r;
  },
  /** Yealink's text format, line by line: the version header, then `key = value`. */
  yealinkLines(t: string): Map<string, string> {
    const lines = t.split('\n');
    if (lines[0] !== '#!version:1.0.0.1') throw new Error(`first line is not the version header: ${lines[0]}`);
    const out = new Map<string, string>();
    for (const [i, l] of lines.slice(1).entries()) {
      if (l === '' || l.startsWith('#')) continue;
      const m = /^([a-z0-9_.]+) = (.*)$/i.exec(l);
      if (!m) throw new Error(`line ${i + 2} is not "key = value": ${l}`);
      if (out.has(m[1]!)) throw new Error(`line ${i + 2}: ${m[1]} set twice`);
      out.set(m[1]!, m[2]!);
    }
    return out;
  },
  yealink(t: string, line = 1): Registration & { handsetLanguage: string } {
    const k = validate.yealinkLines(t);
    const a = `account.${line}`;
    const dst = k.get('local_time.summer_time') === '1' ? `${k.get('local_time.start_time')} ${k.get('local_time.end_time')} ${k.get('local_time.offset_time')}` : '';
    const r = {
      registrar: k.get(`${a}.sip_server.1.address`)!, port: k.get(`${a}.sip_server.1.port`)!, transport: ({ '0': 'udp', '1': 'tcp', '2': 'tls' } as Record<string, string>)[k.get(`${a}.sip_server.1.transport_type`) ?? ''] ?? '',
      user: k.get(`${a}.user_name`)!, authName: k.get(`${a}.auth_name`)!, password: k.get(`${a}.password`)!, displayName: k.get(`${a}.display_name`)!,
      time: k.get('local_time.time_zone')!, dst, language: k.get('lang.wui')!, handsetLanguage: k.get('custom.handset.language')!,
    };
    need(r, ['registrar', 'port', 'transport', 'user', 'authName', 'password', 'displayName', 'time', 'language', 'handsetLanguage'], 'Yealink');
    if (dst && !/^\d{1,2}\/[1-5]\/[1-7]\/\d{1,2} \d{1,2}\/[1-5]\/[1-7]\/\d{1,2} \d+$/.test(dst)) throw new Error(`daylight-saving rule malformed: ${dst}`);
    return r;
  },
  /** <MAC>.xml of a Snom base: <settings><phone-settings> with idx-numbered user_* and subscr_* items. */
  snom(t: string, line = 1): Registration & { accessCode: string; handset: string } {
    const ps = parseXml(t, 'settings')['phone-settings'];
    if (!ps) throw new Error('no <phone-settings>');
    const idx = (name: string) => {
      const v = ps[name];
      const all = Array.isArray(v) ? v : [v];
      return text(all.find((x: any) => x?.['@_idx'] === String(line)));
    };
    const [registrar, port] = idx('user_host').split(':');
    const r = {
      registrar: registrar!, port: port ?? '5060', transport: /;transport=(\w+)/.exec(idx('user_outbound'))?.[1] ?? 'udp',
      user: idx('user_name'), authName: idx('user_pname'), password: idx('user_pass'), displayName: idx('user_realname'),
      time: text(ps.utc_offset), dst: text(ps.dst), language: text(ps.language), accessCode: idx('subscr_dect_ac_code'), handset: idx('subscr_sip_hs_idx'),
    };
    need(r, ['registrar', 'user', 'authName', 'password', 'displayName', 'time', 'language', 'accessCode', 'handset'], 'Snom');
    if (r.dst && !/^\d+ \d\d\.\d\d\.\d\d \d\d:\d\d:\d\d \d\d\.\d\d\.\d\d \d\d:\d\d:\d\d$/.test(r.dst)) throw new Error(`dst malformed: ${r.dst}`);
    return r;
  },
  /** A DLSMessage with WriteItems: the items the phone stores. */
  unifyWriteItems(t: string): Registration {
    const m = parseXml(t, 'DLSMessage').Message;
    if (m?.Action !== 'WriteItems') throw new Error(`not WriteItems: ${m?.Action}`);
    const items = Object.fromEntries((m.ItemList?.Item ?? []).map((i: any) => [i['@_name'], text(i)]));
    const r = {
      registrar: items['registrar-addr'], port: items['registrar-port'], transport: String(items['sip-transport'] ?? '').toLowerCase(), user: items['sip-user-id'], authName: items['sip-user-id'],
      password: items['sip-pwd'], displayName: items['display-id-unicode'], time: items['sntp-tz-offset'],
      dst: items['auto-daylight-save'] === 'true' ? `${items['daylight-save-minutes']}` : '', language: items['language-iso'],
    };
    need(r, ['registrar', 'port', 'transport', 'user', 'password', 'displayName', 'time', 'language'], 'Unify');
    if (items['reg-addr'] !== r.registrar) throw new Error('reg-addr and registrar-addr differ');
    return r;
  },
};

/** Settings as the pipeline gives them to the vendor modules (unit tests, no daemon). */
export async function moduleSettings(over: { zone?: string; language?: string; registrar?: string; sipPort?: number } = {}) {
  const { zoneRule } = await import('../../provisioning/time-zone.js');
  const registrar = over.registrar ?? 'pbx.example.test';
  return { registrar, sipPort: over.sipPort ?? 5060, transport: 'udp' as const, zone: zoneRule(over.zone ?? 'Europe/Berlin'), ntpServer: 'ntp.example.test', language: over.language ?? 'de', baseUrl: `http://${registrar}:6970` };
}

/** A device's line as the modules render it. */
export const sampleLine = (over: Partial<{ line: number; displayName: string; sipUser: string; sipPassword: string }> = {}) => {
  const l = { line: 1, displayName: 'Anna Berg', sipUser: '2042', sipPassword: 'pw-Secret-1', ...over };
  return { ...l, accessCode: l.sipUser.replace(/\D/g, '').slice(-4).padStart(4, '0') };
};

/** The request facts a module sees, from a path (with query) and User-Agent. */
export function facts(url: string, userAgent = '') {
  const [path, query] = url.split('?');
  const file = path!.slice(1);
  return { path: path!, file, lower: file.toLowerCase(), macParam: /(?:^|&)mac=([^&]+)/.exec(query ?? '')?.[1] ?? null, userAgent };
}
