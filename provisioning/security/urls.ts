import type { Config } from '../../daemon/config.js';
import type { Text } from '../../daemon/kernel/refusal.js';
import type { VendorModule } from '../vendors/vendor.js';
import { DIGEST_USER } from './digest.js';

export interface VendorUrl {
  /** The vendor module, e.g. "cisco-mpp". */
  module: string;
  vendor: string;
  /** What the admin sets, on the phone or in DHCP. */
  where: Text;
  value: string;
  /** The protections that apply to this vendor's credentials with the current settings. */
  protections: Text[];
  /** The provisioning user and password to set on the phone (HTTP digest), when required. */
  credentials: { user: string; password: string } | null;
}

/** The protections of a vendor's credentials, as the admin reads them (UI and pbxctl pick the language). */
const PROTECTION = {
  keyRequired: { en: 'site key required', de: 'Standortschlüssel verlangt' },
  keyOptional: { en: 'site key (not required: provisioning.requireKey is off)', de: 'Standortschlüssel (nicht verlangt: provisioning.requireKey ist aus)' },
  tlsOnly: { en: 'credentials over TLS only', de: 'Zugangsdaten nur über TLS' },
  tlsOptional: { en: 'TLS (plain HTTP also served: provisioning.credentialsOverTls is off)', de: 'TLS (auch unverschlüsseltes HTTP: provisioning.credentialsOverTls ist aus)' },
  plainHttp: { en: 'plain HTTP (the firmware cannot fetch over TLS)', de: 'unverschlüsseltes HTTP (die Firmware kann nicht über TLS abrufen)' },
  digest: { en: 'HTTP digest with the provisioning user and password', de: 'HTTP-Digest mit Provisionierungs-Benutzer und -Passwort' },
  clientCertificate: { en: 'client certificate from the vendor\'s device CA, naming the MAC', de: 'Client-Zertifikat der Geräte-CA des Herstellers, das die MAC nennt' },
  wpiNonce: { en: 'WPI nonce: credentials only inside a dialogue this server started', de: 'WPI-Nonce: Zugangsdaten nur in einem Dialog, den dieser Server begonnen hat' },
  deviceLock: { en: 'device lock and enrolment window', de: 'Gerätebindung und Anmeldefenster' },
} satisfies Record<string, Text>;

/** Per vendor, the exact provisioning URL (or DHCP value) to set, with the site key in it where the vendor takes a URL. */
export function provisioningUrls(modules: readonly VendorModule[], key: { key: string; digestPassword: string }, host: string, ports: { http: number; https: number; wpi: number }, p: Config['provisioning'], hasCa: (id: string) => boolean): VendorUrl[] {
  const h = host.includes(':') ? `[${host}]` : host;
  return modules.map((m) => {
    const s = m.security;
    const prefix = s.keyInUrl ? `/${key.key}` : '';
    const set = s.setting({ host, http: `http://${h}:${ports.http}${prefix}`, https: `https://${h}:${ports.https}${prefix}`, wpiPort: ports.wpi });
    const protections: Text[] = [
      ...(s.keyInUrl ? [p.requireKey ? PROTECTION.keyRequired : PROTECTION.keyOptional] : []),
      ...(s.tls ? [p.credentialsOverTls ? PROTECTION.tlsOnly : PROTECTION.tlsOptional] : [PROTECTION.plainHttp]),
      ...(s.digest && p.digest ? [PROTECTION.digest] : []),
      ...(hasCa(m.id) ? [PROTECTION.clientCertificate] : []),
      ...(m.dialogue ? [PROTECTION.wpiNonce] : []),
      ...(p.deviceLock ? [PROTECTION.deviceLock] : []),
    ];
    const credentials = s.digest && p.digest ? { user: DIGEST_USER, password: key.digestPassword } : null;
    return { module: m.id, vendor: m.vendor, where: set.where, value: set.value, protections, credentials };
  });
}
