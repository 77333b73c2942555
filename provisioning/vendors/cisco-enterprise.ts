import type { ZoneRule } from '../time-zone.js';
import { asXml, ntpOf, type LineValues, type ProvisioningSettings, type Recognised, type Rendered, type VendorModule } from './vendor.js';

/**
 * Cisco enterprise phones (78xx/88xx with SIP firmware for a call manager).
 * Boot, as the phone does it over TFTP or HTTP, without a User-Agent:
 *   CTLSEP<MAC>.tlv, ITLSEP<MAC>.tlv, ITLFile.tlv   trust lists: none here, 404
 *   SEP<MAC>.cnf.xml.sgn                            signed config: none here, 404
 *   SEP<MAC>.cnf.xml                                the configuration (takes a devices.cisco license)
 *   dialplan.xml, softkeys.xml                      named by <dialTemplate> and <softKeyFile>
 *   RingList.xml / Ringlist-wb.xml, DistinctiveRingList.xml
 */
export const CISCO_LICENSE = 'devices.cisco';

/** Windows-style zone names the phones know, by standard offset; the first with a matching daylight-saving kind wins. */
const ZONE_NAMES: Array<[number, boolean, string]> = [
  [-600, false, 'Hawaiian Standard Time'], [-540, true, 'Alaskan Standard/Daylight Time'],
  [-480, true, 'Pacific Standard/Daylight Time'], [-420, true, 'Mountain Standard/Daylight Time'], [-420, false, 'US Mountain Standard Time'],
  [-360, true, 'Central Standard/Daylight Time'], [-360, false, 'Central America Standard Time'], [-300, true, 'Eastern Standard/Daylight Time'],
  [-300, false, 'SA Pacific Standard Time'], [-240, true, 'Atlantic Standard/Daylight Time'], [-240, false, 'SA Western Standard Time'],
  [-180, true, 'E. South America Standard/Daylight Time'], [-180, false, 'SA Eastern Standard Time'],
  [0, true, 'GMT Standard/Daylight Time'], [0, false, 'Greenwich Standard Time'],
  [60, true, 'W. Europe Standard/Daylight Time'], [60, false, 'W. Central Africa Standard Time'],
  [120, true, 'GTB Standard/Daylight Time'], [120, false, 'South Africa Standard Time'],
  [180, false, 'Russian Standard Time'], [210, false, 'Iran Standard Time'], [240, false, 'Arabian Standard Time'], [270, false, 'Afghanistan Standard Time'],
  [300, false, 'West Asia Standard Time'], [330, false, 'India Standard Time'], [360, false, 'Central Asia Standard Time'], [420, false, 'SE Asia Standard Time'],
  [480, false, 'China Standard Time'], [540, false, 'Tokyo Standard Time'], [570, true, 'Cen. Australia Standard/Daylight Time'], [570, false, 'AUS Central Standard Time'],
  [600, true, 'AUS Eastern Standard/Daylight Time'], [600, false, 'E. Australia Standard Time'], [720, true, 'New Zealand Standard/Daylight Time'], [720, false, 'Fiji Standard Time'],
];

/** The phone's own name for the zone: same offset and daylight saving, else the nearest offset. */
export function ciscoZoneName(z: ZoneRule): string {
  const exact = ZONE_NAMES.find(([o, dst]) => o === z.offset && dst === (z.dst !== null)) ?? ZONE_NAMES.find(([o]) => o === z.offset);
  if (exact) return exact[2];
  return ZONE_NAMES.reduce((best, e) => (Math.abs(e[0] - z.offset) < Math.abs(best[0] - z.offset) ? e : best))[2];
}

/** transportLayerProtocol: 1 TCP, 2 UDP. */
const TRANSPORT = { udp: 2 } as const;

function devicePool(s: ProvisioningSettings) {
  return {
    dateTimeSetting: { dateTemplate: 'D.M.Y', timeZone: ciscoZoneName(s.zone), ntps: { ntp: { name: ntpOf(s), ntpMode: 'Unicast' } } },
    callManagerGroup: { members: { member: { '@_priority': 0, callManager: { ports: { sipPort: s.sipPort }, processNodeName: s.registrar } } } },
  };
}

/**
 * SEP<MAC>.cnf.xml. No <userLocale>: a named locale makes the phone fetch
 * that locale's files (Cisco's locale installer), which this appliance does not
 * have; the phone keeps its built-in English.
 */
function render(d: LineValues, s: ProvisioningSettings): Rendered {
  return asXml({
    device: {
      fullConfig: 'true',
      deviceProtocol: 'SIP',
      devicePool: devicePool(s),
      sipProfile: {
        sipProxies: { registerWithProxy: 'true' },
        dialTemplate: 'dialplan.xml',
        softKeyFile: 'softkeys.xml',
        phoneLabel: d.displayName,
        sipLines: {
          line: {
            '@_button': d.line,
            '@_lineIndex': d.line,
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
      transportLayerProtocol: TRANSPORT[s.transport],
    },
  });
}

const RINGS = [{ DisplayName: 'Classic', FileName: 'Ringer1.raw' }, { DisplayName: 'Chirp', FileName: 'Ringer2.raw' }];

function commonFiles(s: ProvisioningSettings): Map<string, Rendered> {
  const files = new Map<string, Rendered>();
  files.set('xmldefault.cnf.xml', asXml({ Default: { devicePool: devicePool(s) } }));
  files.set('dialplan.xml', asXml({ DIALTEMPLATE: { TEMPLATE: [{ '@_MATCH': '*', '@_Timeout': 5, '@_User': 'Phone' }] } }, false));
  // The keys each call state offers, by the phone's own action names.
  const set = (id: string, keys: string[]) => ({ '@_id': id, softKey: keys.map((k) => ({ '@_action': k })) });
  files.set('softkeys.xml', asXml({
    softKeyCfg: {
      versionStamp: 'pbxd-1',
      softKeySets: {
        softKeySet: [
          set('On Hook', ['Redial', 'NewCall', 'CFwdAll', 'DND']),
          set('Off Hook', ['Redial', 'EndCall']),
          set('Connected', ['Hold', 'EndCall', 'Transfer', 'Conference']),
          set('On Hold', ['Resume', 'NewCall', 'EndCall']),
          set('Ring In', ['Answer', 'DND']),
          set('Digits After First', ['Backspace', 'EndCall']),
        ],
      },
    },
  }));
  const ringList = asXml({ CiscoIPPhoneRingList: { Ring: RINGS } }, false);
  for (const n of ['ringlist.xml', 'ringlist-wb.xml', 'distinctiveringlist.xml']) files.set(n, ringList);
  return files;
}

const ABSENT_COMMON = new Set(['itlfile.tlv', 'ctlfile.tlv']);

function recognise(req: { file: string; lower: string }): Recognised | null {
  let m = /^sep([^.]*)\.cnf\.xml(\.sgn)?$/i.exec(req.file);
  if (m) return { kind: m[2] ? 'absent' : 'config', mac: m[1]!, name: m[2] ? 'signed configuration (use the plain file)' : '' };
  m = /^(?:ctl|itl)sep([^.]*)\.tlv$/i.exec(req.file);
  if (m) return { kind: 'absent', mac: m[1]!, name: 'trust list' };
  if (ABSENT_COMMON.has(req.lower)) return { kind: 'absent', mac: null, name: `${req.lower}: trust list` };
  if (COMMON_NAMES.has(req.lower)) return { kind: 'common', mac: null, name: req.lower };
  return null;
}

const COMMON_NAMES = new Set(['xmldefault.cnf.xml', 'dialplan.xml', 'softkeys.xml', 'ringlist.xml', 'ringlist-wb.xml', 'distinctiveringlist.xml']);

export const ciscoEnterprise: VendorModule = {
  id: 'cisco-enterprise',
  vendor: 'cisco',
  license: CISCO_LICENSE,
  owns: (model) => !model.endsWith('-3PCC'),
  agent: () => null, // the phones send none
  recognise,
  render,
  commonFiles,
};
