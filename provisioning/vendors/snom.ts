import { isoWeekday, type Transition, type ZoneRule } from '../time-zone.js';
import { asXml, ntpOf, rendered, xml, XML_TYPE, type AgentFacts, type LineValues, type ProvisioningSettings, type Recognised, type Rendered, type VendorModule } from './vendor.js';

/**
 * Snom M700/M900 DECT bases (and M300/M500). Setting URL (web UI, or DHCP
 * option 66) → `http://<appliance>:6970/snom{model}.htm`, or any file here with
 * `?mac={mac}`. With `Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)`
 * the base asks for
 *   snomM900.htm             an index: names the base's own files
 *   snomM900-<MAC>.htm       an index: names <MAC>.xml
 *   <MAC>.xml                <settings><phone-settings>: server, one user and handset subscription per line
 * No license.
 */
const AGENTS = [
  /\bsnom\s?(M\d{3})\s([\d.]+)\s([0-9a-fA-F]{12})\b/i, // firmware 05.x and later, in a Mozilla/4.0 (compatible; …) form
  /^Snom[- ]?(M\d{3})\/([\w.]+)(?:\s*\(([0-9a-fA-F:]{12,17})\))?/i,
];

function agent(ua: string): AgentFacts | null {
  for (const re of AGENTS) {
    const m = re.exec(ua);
    if (m) return { model: m[1]!.toUpperCase(), firmware: m[2]!, mac: m[3] ?? null };
  }
  return null;
}

const LANGUAGE: Record<string, [string, string]> = {
  de: ['Deutsch', 'GER'], en: ['English', 'GBR'], fr: ['Francais', 'FRA'], es: ['Espanol', 'ESP'], it: ['Italiano', 'ITA'], nl: ['Dutch', 'NLD'],
};

/** "month.week.weekday hh:mm:ss", week 5 = the last, Monday = 1. */
const when = (t: Transition) =>
  `${String(t.month).padStart(2, '0')}.${String(t.week).padStart(2, '0')}.${String(isoWeekday(t)).padStart(2, '0')} ${String(Math.floor(t.minutes / 60)).padStart(2, '0')}:${String(t.minutes % 60).padStart(2, '0')}:00`;

/** utc_offset in seconds; dst as "<save seconds> <start> <end>", empty without daylight saving. */
export function snomTime(z: ZoneRule): { utc_offset: string; dst: string } {
  return {
    utc_offset: String(z.offset * 60),
    dst: z.dst ? `${z.dst.save * 60} ${when(z.dst.start)} ${when(z.dst.end)}` : '',
  };
}

function render(l: LineValues, s: ProvisioningSettings): Rendered {
  const [language, tones] = LANGUAGE[s.language] ?? LANGUAGE.en!;
  const i = { '@_idx': l.line };
  const server = { '@_idx': 1 };
  const time = snomTime(s.zone);
  return asXml({
    settings: {
      'phone-settings': {
        ntp_server: ntpOf(s),
        utc_offset: time.utc_offset,
        dst: time.dst,
        language,
        web_language: language,
        tone_scheme: tones,
        srv_sip_server_alias: { ...server, '#text': 'pbxd' },
        user_host: { ...i, '#text': `${s.registrar}:${s.sipPort}` },
        user_outbound: { ...i, '#text': `${s.registrar}:${s.sipPort};transport=${s.transport}` },
        user_active: { ...i, '#text': 'on' },
        user_name: { ...i, '#text': l.sipUser },
        user_pname: { ...i, '#text': l.sipUser },
        user_pass: { ...i, '#text': l.sipPassword },
        user_realname: { ...i, '#text': l.displayName },
        subscr_sip_hs_idx: { ...i, '#text': l.line },
        subscr_dect_ac_code: { ...i, '#text': l.accessCode },
        subscr_sip_ua_data_server_id: { ...i, '#text': 1 },
      },
    },
  });
}

/** Stands for the MAC while an index is built (its last occurrence: the URL before it is the appliance's). */
const MAC_MARK = 'MACMACMACMAC';
/** The index built once per base URL (bases ask for it at every boot); it differs per base only in the MAC. */
let indexOf: { baseUrl: string; before: string; after: string } | null = null;

/** An index names the files the base fetches next. */
function renderIndex(_name: string, mac: string, s: ProvisioningSettings): Rendered {
  if (indexOf?.baseUrl !== s.baseUrl) {
    const built = xml({ 'setting-files': { file: { '@_url': `${s.baseUrl}/${MAC_MARK}.xml` } } });
    const at = built.lastIndexOf(MAC_MARK);
    indexOf = { baseUrl: s.baseUrl, before: built.slice(0, at), after: built.slice(at + MAC_MARK.length) };
  }
  // A MAC is 12 hex digits (the pipeline normalised it): nothing in it to escape.
  return rendered(indexOf.before + mac.toUpperCase() + indexOf.after, XML_TYPE);
}

function recognise(req: { file: string; lower: string; macParam: string | null }, ua: AgentFacts | null): Recognised | null {
  let m = /^snom(m\d{3})-([^.]*)\.htm$/i.exec(req.file);
  if (m) return { kind: 'index', mac: m[2]!, name: req.lower };
  m = /^snom(m\d{3})\.htm$/i.exec(req.file);
  // The MAC-less index is the base's own only with its MAC (User-Agent or ?mac=).
  if (m) return { kind: 'index', mac: req.macParam ?? ua?.mac ?? null, name: req.lower };
  m = /^([0-9a-f:.-]+)\.xml$/i.exec(req.file);
  if (m) return { kind: 'config', mac: m[1]!, name: '', shared: ua === null };
  return null;
}

export const snom: VendorModule = {
  id: 'snom', vendor: 'snom', license: null, agent, recognise, render, renderIndex,
  security: { keyInUrl: true, tls: true, digest: true, setting: (u) => ({ where: { en: 'Setting server (web UI), or DHCP option 66', de: 'Setting server (Web-Oberfläche) oder DHCP-Option 66' }, value: `${u.https}/snom{model}.htm` }) },
};
