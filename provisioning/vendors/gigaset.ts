import { asXml, ntpOf, type AgentFacts, type LineValues, type ProvisioningSettings, type Recognised, type Rendered, type VendorModule } from './vendor.js';

/**
 * Gigaset N670/N870 IP PRO DECT bases. The provisioning URL (web UI, or DHCP
 * option 114) points at this server; the base asks for `/<mac>.xml` with
 * `Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605`. No license.
 * One handset per line: `add_hs` opens its subscription, `DECT_AC` is the PIN
 * the handset enters.
 */
const AGENT = /^"?Gigaset ([\w ]+?)\/([\w.+-]+)(?:;([0-9A-Fa-f:]{12,17}))?/;

function agent(ua: string): AgentFacts | null {
  const m = AGENT.exec(ua);
  return m ? { model: m[1]!, firmware: m[2]!, mac: m[3] ?? null } : null;
}

/** TransportProtocol: 1 UDP, 2 TCP, 3 TLS. */
const TRANSPORT = { udp: 1 } as const;

/**
 * The base takes the IANA zone name itself and applies its own daylight-saving
 * rule for it, so the name goes as configured.
 */
function render(l: LineValues, s: ProvisioningSettings): Rendered {
  const hs = String(l.line).padStart(5, '0');
  const p = (name: string, value: string | number) => ({ '@_name': name, '@_value': String(value) });
  return asXml({
    provisioning: {
      '@_version': '1.1',
      '@_productID': 'e2',
      nvm: {
        param: [
          p('DmGlobal.0.NtpServer', ntpOf(s)),
          p('DmGlobal.0.TimeZone', s.zone.name),
          p('DmGlobal.0.Language', s.language),
          p('SipProvider.0.Name', 'pbxd'),
          p('SipProvider.0.Domain', s.registrar),
          p('SipProvider.0.ProxyServerAddress', s.registrar),
          p('SipProvider.0.ProxyServerPort', s.sipPort),
          p('SipProvider.0.RegServerAddress', s.registrar),
          p('SipProvider.0.RegServerPort', s.sipPort),
          p('SipProvider.0.TransportProtocol', TRANSPORT[s.transport]),
          p(`hs.${hs}.DECT_AC`, l.accessCode),
          p(`SipAccount.${hs}.AuthName`, l.sipUser),
          p(`SipAccount.${hs}.AuthPassword`, l.sipPassword),
          p(`SipAccount.${hs}.UserName`, l.sipUser),
          p(`SipAccount.${hs}.DisplayName`, l.displayName),
          p(`SipAccount.${hs}.ProviderId`, 0),
        ],
        oper: { '@_name': 'add_hs', '@_value': hs, param: p('hs.RegStatus', 'ToReg') },
      },
    },
  });
}

function recognise(req: { file: string }, ua: AgentFacts | null): Recognised | null {
  const m = /^([0-9a-f:.-]+)\.xml$/i.exec(req.file);
  return m ? { kind: 'config', mac: m[1]!, name: '', shared: ua === null } : null;
}

export const gigaset: VendorModule = { id: 'gigaset', vendor: 'gigaset', license: null, agent, recognise, render };
