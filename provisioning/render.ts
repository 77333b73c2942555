import { XMLBuilder } from 'fast-xml-parser';
import type { DeviceRecord } from '../daemon/core/devices.js';

/** Appliance settings that go into every configuration. */
export interface ProvisioningSettings {
  registrar: string;
  sipPort: number;
  timeZone: string;
  ntpServer: string;
  language: string;
}

/**
 * A rendered file as sent: a string (Node writes headers and a string body in
 * one write, a Buffer body takes a second, vectored one), its byte length and type.
 */
export interface Rendered {
  body: string;
  bytes: number;
  type: string;
}

export const rendered = (body: string, type: string): Rendered => ({ body, bytes: Buffer.byteLength(body), type });

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, suppressEmptyNode: true });
const XML_DECL = { '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' } };

export function xml(doc: Record<string, unknown>, decl = true): string {
  return builder.build(decl ? { ...XML_DECL, ...doc } : doc) as string;
}

const asXml = (s: string): Rendered => rendered(s, 'text/xml; charset=utf-8');

/** IANA zone → the names the vendors use (a few common ones; UTC otherwise). */
const TZ: Record<string, { cisco: string; offset: string; yealinkName: string }> = {
  'Europe/Berlin': { cisco: 'W. Europe Standard/Daylight Time', offset: '+1', yealinkName: 'Germany(Berlin)' },
  'Europe/Vienna': { cisco: 'W. Europe Standard/Daylight Time', offset: '+1', yealinkName: 'Austria(Vienna)' },
  'Europe/Zurich': { cisco: 'W. Europe Standard/Daylight Time', offset: '+1', yealinkName: 'Switzerland(Bern)' },
  'Europe/Paris': { cisco: 'Romance Standard/Daylight Time', offset: '+1', yealinkName: 'France(Paris)' },
  'Europe/London': { cisco: 'GMT Standard/Daylight Time', offset: '0', yealinkName: 'United Kingdom(London)' },
  'America/New_York': { cisco: 'Eastern Standard/Daylight Time', offset: '-5', yealinkName: 'United States-Eastern Time' },
  UTC: { cisco: 'Greenwich Standard Time', offset: '0', yealinkName: 'Greenwich' },
};
const tz = (s: ProvisioningSettings) => TZ[s.timeZone] ?? TZ.UTC!;

const LANG: Record<string, { cisco: string; ciscoCode: string; name: string; iso: string }> = {
  de: { cisco: 'German_Germany', ciscoCode: 'de_DE', name: 'German', iso: 'de' },
  en: { cisco: 'English_United_States', ciscoCode: 'en_US', name: 'English', iso: 'en' },
  fr: { cisco: 'French_France', ciscoCode: 'fr_FR', name: 'French', iso: 'fr' },
};
const lang = (s: ProvisioningSettings) => LANG[s.language] ?? LANG.en!;

const ntp = (s: ProvisioningSettings) => s.ntpServer || s.registrar;

/** Cisco enterprise (SEP<MAC>.cnf.xml): device pool with time and call manager, one SIP line per assignment. */
function ciscoEnterprise(d: DeviceRecord, s: ProvisioningSettings): Rendered {
  return asXml(xml({
    device: {
      fullConfig: 'true',
      deviceProtocol: 'SIP',
      devicePool: ciscoPool(s),
      sipProfile: {
        sipProxies: { registerWithProxy: 'true' },
        phoneLabel: d.displayName,
        sipLines: {
          line: {
            '@_button': d.line,
            featureID: 9,
            featureLabel: d.displayName,
            proxy: 'USECALLMANAGER',
            port: s.sipPort,
            name: d.sipUser,
            displayName: d.displayName,
            contact: d.sipUser,
            authName: d.sipUser,
            authPassword: d.sipPassword,
          },
        },
      },
      userLocale: { name: lang(s).cisco, langCode: lang(s).ciscoCode },
    },
  }));
}

function ciscoPool(s: ProvisioningSettings) {
  return {
    dateTimeSetting: { dateTemplate: 'D.M.Y', timeZone: tz(s).cisco, ntps: { ntp: { name: ntp(s), ntpMode: 'Unicast' } } },
    callManagerGroup: { members: { member: { '@_priority': 0, callManager: { ports: { sipPort: s.sipPort }, processNodeName: s.registrar } } } },
  };
}

/** Cisco MPP/3PCC (<mac>.xml): a flat profile, parameters suffixed with the line number. */
function ciscoMpp(d: DeviceRecord, s: ProvisioningSettings): Rendered {
  const n = `_${d.line}_`;
  return asXml(xml({
    'flat-profile': {
      Station_Display_Name: d.displayName,
      Primary_NTP_Server: ntp(s),
      Time_Zone: `GMT${tz(s).offset === '0' ? '' : tz(s).offset.startsWith('-') ? tz(s).offset : '+' + tz(s).offset.replace('+', '')}:00`,
      Language_Selection: lang(s).name,
      [`Line_Enable${n}`]: 'Yes',
      [`Proxy${n}`]: `${s.registrar}:${s.sipPort}`,
      [`Register${n}`]: 'Yes',
      [`Display_Name${n}`]: d.displayName,
      [`User_ID${n}`]: d.sipUser,
      [`Auth_ID${n}`]: d.sipUser,
      [`Use_Auth_ID${n}`]: 'Yes',
      [`Password${n}`]: d.sipPassword,
    },
  }));
}

/** Gigaset N670/N870 IP PRO (<mac>.xml): nvm parameters, one handset per line. */
function gigaset(d: DeviceRecord, s: ProvisioningSettings): Rendered {
  const hs = String(d.line).padStart(5, '0');
  const p = (name: string, value: string | number) => ({ '@_name': name, '@_value': String(value) });
  return asXml(xml({
    provisioning: {
      '@_version': '1.1',
      '@_productID': 'e2',
      nvm: {
        param: [
          p('DmGlobal.0.NtpServer', ntp(s)),
          p('DmGlobal.0.TimeZone', s.timeZone),
          p('DmGlobal.0.Language', lang(s).iso),
          p('SipProvider.0.Name', 'pbxd'),
          p('SipProvider.0.Domain', s.registrar),
          p('SipProvider.0.ProxyServerAddress', s.registrar),
          p('SipProvider.0.ProxyServerPort', s.sipPort),
          p('SipProvider.0.RegServerAddress', s.registrar),
          p('SipProvider.0.RegServerPort', s.sipPort),
          p(`SipAccount.${hs}.AuthName`, d.sipUser),
          p(`SipAccount.${hs}.AuthPassword`, d.sipPassword),
          p(`SipAccount.${hs}.UserName`, d.sipUser),
          p(`SipAccount.${hs}.DisplayName`, d.displayName),
          p(`SipAccount.${hs}.ProviderId`, 0),
        ],
        oper: { '@_name': 'add_hs', '@_value': hs, param: p('hs.RegStatus', 'ToReg') },
      },
    },
  }));
}

/** Yealink's text format cannot escape; a value never spans lines. */
const oneLine = (v: string | number) => String(v).replace(/[\r\n]+/g, ' ');

/** Yealink W70B/W80B (<mac>.cfg): key = value text. */
function yealink(d: DeviceRecord, s: ProvisioningSettings): Rendered {
  const a = `account.${d.line}`;
  const lines: Array<[string, string | number]> = [
    [`${a}.enable`, 1],
    [`${a}.label`, d.displayName],
    [`${a}.display_name`, d.displayName],
    [`${a}.auth_name`, d.sipUser],
    [`${a}.user_name`, d.sipUser],
    [`${a}.password`, d.sipPassword],
    [`${a}.sip_server.1.address`, s.registrar],
    [`${a}.sip_server.1.port`, s.sipPort],
    ['local_time.time_zone', tz(s).offset],
    ['local_time.time_zone_name', tz(s).yealinkName],
    ['local_time.ntp_server1', ntp(s)],
    ['lang.gui', lang(s).name],
  ];
  return rendered(['#!version:1.0.0.1', ...lines.map(([k, v]) => `${k} = ${oneLine(v)}`), ''].join('\n'), 'text/plain; charset=utf-8');
}

/** Snom M700/M900 (<MAC>.xml): settings with a server and one extension per line. */
function snom(d: DeviceRecord, s: ProvisioningSettings): Rendered {
  return asXml(xml({
    settings: {
      global: { ntp_server: ntp(s), timezone: s.timeZone, language: lang(s).name },
      servers: { server: { '@_idx': 1, name: 'pbxd', address: s.registrar, port: s.sipPort } },
      extensions: {
        extension: { '@_idx': d.line, server: 1, user: d.sipUser, auth_user: d.sipUser, password: d.sipPassword, display_name: d.displayName },
      },
    },
  }));
}

/** Unify WPI: the items a WriteItems message sets. */
export function wpiItems(d: DeviceRecord, s: ProvisioningSettings): Array<[string, string | number]> {
  return [
    ['e164', d.sipUser],
    ['sip-user-id', d.sipUser],
    ['sip-pwd', d.sipPassword],
    ['display-id-unicode', d.displayName],
    ['reg-addr', s.registrar],
    ['reg-port', s.sipPort],
    ['sgnl-gateway-addr', s.registrar],
    ['sgnl-gateway-port', s.sipPort],
    ['sntp-addr', ntp(s)],
    ['sntp-tz-offset', Number(tz(s).offset) * 60],
    ['language-iso', lang(s).iso],
  ];
}

/** The file formats of device configurations: Cisco has two (enterprise SEP and MPP/3PCC), the others one. */
export type ConfigFormat = 'sep' | 'mpp' | 'gigaset' | 'yealink' | 'snom';

const RENDERERS: Record<ConfigFormat, (d: DeviceRecord, s: ProvisioningSettings) => Rendered> = {
  sep: ciscoEnterprise,
  mpp: ciscoMpp,
  gigaset,
  yealink,
  snom,
};

export const CONFIG_FORMATS = Object.keys(RENDERERS) as ConfigFormat[];

/** The format a vendor's phone gets when it does not say (Cisco: by model); null for vendors without a configuration file (Unify speaks WPI). */
export function configFormat(d: Pick<DeviceRecord, 'vendor' | 'model'>): ConfigFormat | null {
  if (d.vendor === 'cisco') return d.model.endsWith('-3PCC') ? 'mpp' : 'sep';
  return d.vendor in RENDERERS ? (d.vendor as ConfigFormat) : null;
}

/** The device's own configuration file in `format`, built in full (not WPI, which is a dialogue). */
export function renderDevice(d: DeviceRecord, s: ProvisioningSettings, format: ConfigFormat | null = configFormat(d)): Rendered | null {
  return format ? RENDERERS[format](d, s) : null;
}

/** The fields of a device that differ between configurations of the same format and line. */
const SLOTS = ['displayName', 'sipUser', 'sipPassword'] as const;
type Slot = (typeof SLOTS)[number];
const SLOT_MARK = /PBXDSLOT(displayName|sipUser|sipPassword)PBXDSLOT/;

/** A value the renderers write as it is (nothing to escape, no line break, not empty), so it can fill a template. */
const verbatim = (v: string) => v !== '' && !/[&<>"'\r\n]/.test(v);

/**
 * One format and line's configuration, built once with marks where the
 * device's own values go, kept as the text between them: a device's file is
 * the chunks joined with its values (a few hundred bytes of string concat per
 * request, no XML build), instead of a rendered copy per device in memory.
 */
class Template {
  private constructor(
    private readonly chunks: string[],
    private readonly slots: Slot[],
    private readonly type: string,
  ) {}

  /** null when the renderer's output does not split cleanly (then devices are rendered in full). */
  static build(format: ConfigFormat, line: number, s: ProvisioningSettings): Template | null {
    const marked = { vendor: 'cisco', model: '', line, displayName: 'PBXDSLOTdisplayNamePBXDSLOT', sipUser: 'PBXDSLOTsipUserPBXDSLOT', sipPassword: 'PBXDSLOTsipPasswordPBXDSLOT' };
    const r = RENDERERS[format](marked as DeviceRecord, s);
    const parts = r.body.split(SLOT_MARK);
    const t = new Template(parts.filter((_, i) => i % 2 === 0), parts.filter((_, i) => i % 2 === 1) as Slot[], r.type);
    // The template must give the very bytes the renderer gives.
    const probe = { vendor: 'cisco', model: '', line, displayName: 'Probe Name Ä', sipUser: '4711', sipPassword: 'pw-0123' } as DeviceRecord;
    return t.fill(probe).body === RENDERERS[format](probe, s).body ? t : null;
  }

  fill(d: Pick<DeviceRecord, Slot>): Rendered {
    let body = this.chunks[0]!;
    for (let i = 0; i < this.slots.length; i++) body += d[this.slots[i]!] + this.chunks[i + 1]!;
    return { body, bytes: Buffer.byteLength(body), type: this.type };
  }
}

/**
 * Device configurations for the settings in force: from a template per
 * format and line for devices whose values need no escaping (nearly all),
 * rendered in full otherwise (the caller keeps those).
 */
export class DeviceConfigs {
  private readonly templates = new Map<string, Template | null>();

  constructor(readonly settings: ProvisioningSettings) {}

  /** Whether `fill` gives this device's file (then there is nothing worth keeping per device). */
  fromTemplate(d: DeviceRecord, format: ConfigFormat): boolean {
    return this.templateFor(d, format) !== null;
  }

  /** The device's file from its template; null if its values need escaping (then `renderInFull`). */
  fill(d: DeviceRecord, format: ConfigFormat): Rendered | null {
    return this.templateFor(d, format)?.fill(d) ?? null;
  }

  renderInFull(d: DeviceRecord, format: ConfigFormat): Rendered {
    return RENDERERS[format](d, this.settings);
  }

  private templateFor(d: DeviceRecord, format: ConfigFormat): Template | null {
    if (!verbatim(d.displayName) || !verbatim(d.sipUser) || !verbatim(d.sipPassword)) return null;
    const key = `${format}:${d.line}`;
    let t = this.templates.get(key);
    if (t === undefined) this.templates.set(key, (t = Template.build(format, d.line, this.settings)));
    return t;
  }
}

/** MAC-less files: the same for every phone, never with a credential. */
export function renderCommon(s: ProvisioningSettings): Map<string, Rendered> {
  const files = new Map<string, Rendered>();
  files.set('xmldefault.cnf.xml', asXml(xml({ Default: { devicePool: ciscoPool(s), userLocale: { name: lang(s).cisco, langCode: lang(s).ciscoCode } } })));
  files.set('dialplan.xml', asXml(xml({ DIALTEMPLATE: { TEMPLATE: [{ '@_MATCH': '*', '@_Timeout': 5, '@_User': 'Phone' }] } }, false)));
  const ringList = { CiscoIPPhoneRingList: { Ring: [{ DisplayName: 'Classic', FileName: 'Ringer1.raw' }, { DisplayName: 'Chirp', FileName: 'Ringer2.raw' }] } };
  files.set('distinctiveringlist.xml', asXml(xml(ringList, false)));
  files.set('ringlist.xml', asXml(xml(ringList, false)));
  const common = ['#!version:1.0.0.1', `local_time.time_zone = ${tz(s).offset}`, `local_time.time_zone_name = ${tz(s).yealinkName}`, `local_time.ntp_server1 = ${oneLine(ntp(s))}`, `lang.gui = ${lang(s).name}`, ''].join('\n');
  // W70B firmware 146.x, W80B 103.x
  for (const n of ['146', '103']) files.set(`y000000000${n}.cfg`, rendered(common, 'text/plain; charset=utf-8'));
  return files;
}
