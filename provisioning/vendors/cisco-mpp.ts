import { hhmm, isoWeekday, type Transition, type ZoneRule } from '../time-zone.js';
import { CISCO_LICENSE } from './cisco-enterprise.js';
import { asXml, ntpOf, type AgentFacts, type LineValues, type ProvisioningSettings, type Recognised, type Rendered, type VendorModule } from './vendor.js';

/**
 * Cisco multiplatform phones (MPP/3PCC firmware). The profile rule points the
 * phone at `/$MA.xml`; it asks with `Cisco-CP-8841-3PCC/11.3.7 (00562b043615)`.
 * A flat profile: each parameter an element, line parameters suffixed `_<n>_`.
 */
const AGENT = /^Cisco-(CP-[\w-]+?)-3PCC\/(\S+)\s*\(([^)]*)\)/i;

function agent(ua: string): AgentFacts | null {
  const m = AGENT.exec(ua);
  return m ? { model: `${m[1]}-3PCC`, firmware: m[2]!, mac: m[3]! } : null;
}

/** month/day/weekday/time: day -1 with a weekday is the month's last such day; day n with a weekday is the first on or after n. */
function ruleDate(t: Transition): string {
  const day = t.week === 5 ? -1 : (t.week - 1) * 7 + 1;
  const h = Math.floor(t.minutes / 60);
  const m = t.minutes % 60;
  return `${t.month}/${day}/${isoWeekday(t)}/${h}${m ? `:${String(m).padStart(2, '0')}` : ''}`;
}

/** Time_Zone as the phone writes it (GMT+01:00) and its Daylight_Saving_Time_Rule. */
export function mppTime(z: ZoneRule): Record<string, string> {
  const out: Record<string, string> = { Time_Zone: `GMT${hhmm(z.offset)}` };
  if (!z.dst) return { ...out, Daylight_Saving_Time_Enable: 'No' };
  const save = z.dst.save % 60 ? `${Math.floor(z.dst.save / 60)}:${String(z.dst.save % 60).padStart(2, '0')}` : String(z.dst.save / 60);
  return { ...out, Daylight_Saving_Time_Enable: 'Yes', Daylight_Saving_Time_Rule: `start=${ruleDate(z.dst.start)};end=${ruleDate(z.dst.end)};save=${save}` };
}

const LANGUAGE: Record<string, string> = { de: 'German', en: 'English', fr: 'French', es: 'Spanish', it: 'Italian', nl: 'Dutch' };

function render(d: LineValues, s: ProvisioningSettings): Rendered {
  const n = `_${d.line}_`;
  return asXml({
    'flat-profile': {
      Station_Display_Name: d.displayName,
      Primary_NTP_Server: ntpOf(s),
      ...mppTime(s.zone),
      Language_Selection: LANGUAGE[s.language] ?? 'English',
      [`Line_Enable${n}`]: 'Yes',
      // The line's own SIP_Port is the phone's local port; the registrar's goes with its address.
      [`Proxy${n}`]: `${s.registrar}:${s.sipPort}`,
      [`SIP_Transport${n}`]: s.transport.toUpperCase(),
      [`Register${n}`]: 'Yes',
      [`Display_Name${n}`]: d.displayName,
      [`User_ID${n}`]: d.sipUser,
      [`Auth_ID${n}`]: d.sipUser,
      [`Use_Auth_ID${n}`]: 'Yes',
      [`Password${n}`]: d.sipPassword,
    },
  });
}

function recognise(req: { file: string }, ua: AgentFacts | null): Recognised | null {
  const m = /^([0-9a-f:.-]+)\.xml$/i.exec(req.file);
  if (!m) return null;
  // Without its User-Agent the path is Gigaset's and Snom's too: only for a device recorded as MPP.
  return { kind: 'config', mac: m[1]!, name: '', shared: ua === null };
}

export const ciscoMpp: VendorModule = {
  id: 'cisco-mpp',
  vendor: 'cisco',
  license: CISCO_LICENSE,
  owns: (model) => model.endsWith('-3PCC'),
  agent,
  recognise,
  configNeedsAgent: true,
  render,
};
