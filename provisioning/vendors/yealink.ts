import { hours, isoWeekday, type Transition, type ZoneRule } from '../time-zone.js';
import { oneLine, ntpOf, rendered, TEXT_TYPE, type AgentFacts, type LineValues, type ProvisioningSettings, type Recognised, type Rendered, type VendorModule } from './vendor.js';

/**
 * Yealink W70B/W80B DECT bases. Auto provisioning server URL (web UI or DHCP
 * option 66) → this server; the base asks, with
 * `Yealink W70B 146.85.0.20 80:5e:c0:12:34:56`, first for the common file
 * `y000000000146.cfg` (146: W70B firmware line, 103: W80B), then `/<mac>.cfg`.
 * Text, `key = value` per line, after the `#!version:1.0.0.1` header. No license.
 */
const AGENT = /^Yealink (W\d\dB)\s+([\d.]+)(?:\s+([0-9a-fA-F:]{17}))?/;

function agent(ua: string): AgentFacts | null {
  const m = AGENT.exec(ua);
  return m ? { model: m[1]!, firmware: m[2]!, mac: m[3] ?? null } : null;
}

/** The web UI's language (lang.wui) and the handsets' (custom.handset.language). */
const LANGUAGE: Record<string, string> = { de: 'German', en: 'English', fr: 'French', es: 'Spanish', it: 'Italian', nl: 'Dutch', pl: 'Polish', tr: 'Turkish' };

/** month/week/weekday/hour, week 5 = the last one, Monday = 1. */
const when = (t: Transition) => `${t.month}/${t.week}/${isoWeekday(t)}/${Math.floor(t.minutes / 60)}`;

export function yealinkTime(z: ZoneRule): Array<[string, string | number]> {
  const base: Array<[string, string | number]> = [['local_time.time_zone', (z.offset >= 0 ? '+' : '') + hours(z.offset)]];
  if (!z.dst) return [...base, ['local_time.summer_time', 0]];
  return [
    ...base,
    ['local_time.summer_time', 1],
    ['local_time.dst_time_type', 1],
    ['local_time.start_time', when(z.dst.start)],
    ['local_time.end_time', when(z.dst.end)],
    ['local_time.offset_time', z.dst.save],
  ];
}

function common(s: ProvisioningSettings): Array<[string, string | number]> {
  const lang = LANGUAGE[s.language] ?? 'English';
  return [['local_time.ntp_server1', ntpOf(s)], ...yealinkTime(s.zone), ['lang.wui', lang], ['custom.handset.language', lang]];
}

const text = (lines: Array<[string, string | number]>) => rendered(['#!version:1.0.0.1', ...lines.map(([k, v]) => `${k} = ${oneLine(v)}`), ''].join('\n'), TEXT_TYPE);

/** TransportType: 0 UDP, 1 TCP, 2 TLS. */
const TRANSPORT = { udp: 0 } as const;

function render(l: LineValues, s: ProvisioningSettings): Rendered {
  const a = `account.${l.line}`;
  return text([
    [`${a}.enable`, 1],
    [`${a}.label`, l.displayName],
    [`${a}.display_name`, l.displayName],
    [`${a}.auth_name`, l.sipUser],
    [`${a}.user_name`, l.sipUser],
    [`${a}.password`, l.sipPassword],
    [`${a}.sip_server.1.address`, s.registrar],
    [`${a}.sip_server.1.port`, s.sipPort],
    [`${a}.sip_server.1.transport_type`, TRANSPORT[s.transport]],
    [`handset.${l.line}.name`, l.displayName],
    ...common(s),
  ]);
}

const COMMON = /^y000000000(\d{3})\.cfg$/;

function recognise(req: { file: string; lower: string }, ua: AgentFacts | null): Recognised | null {
  if (COMMON.test(req.lower)) return { kind: 'common', mac: null, name: req.lower };
  const m = /^([0-9a-f:.-]+)\.cfg$/i.exec(req.file);
  return m ? { kind: 'config', mac: m[1]!, name: '', shared: ua === null } : null;
}

function commonFiles(s: ProvisioningSettings): Map<string, Rendered> {
  const f = text(common(s));
  // W70B firmware 146.x, W80B 103.x
  return new Map(['146', '103'].map((n) => [`y000000000${n}.cfg`, f]));
}

export const yealink: VendorModule = { id: 'yealink', vendor: 'yealink', license: null, agent, recognise, render, commonFiles };
