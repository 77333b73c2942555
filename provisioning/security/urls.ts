import type { Config } from '../../daemon/config.js';
import type { VendorModule } from '../vendors/vendor.js';
import { DIGEST_USER, digestPassword } from './digest.js';

export interface VendorUrl {
  /** The vendor module, e.g. "cisco-mpp". */
  module: string;
  vendor: string;
  /** What the admin sets, on the phone or in DHCP. */
  where: string;
  value: string;
  /** The protections that apply to this vendor's credentials with the current settings. */
  protections: string[];
  /** The provisioning user and password to set on the phone (HTTP digest), when required. */
  credentials: { user: string; password: string } | null;
}

/** Per vendor, the exact provisioning URL (or DHCP value) to set, with the site key in it where the vendor takes a URL. */
export function provisioningUrls(modules: readonly VendorModule[], key: string, host: string, ports: { http: number; https: number; wpi: number }, p: Config['provisioning'], hasCa: (id: string) => boolean): VendorUrl[] {
  const h = host.includes(':') ? `[${host}]` : host;
  return modules.map((m) => {
    const s = m.security;
    const prefix = s.keyInUrl ? `/${key}` : '';
    const set = s.setting({ host, http: `http://${h}:${ports.http}${prefix}`, https: `https://${h}:${ports.https}${prefix}`, wpiPort: ports.wpi });
    const protections = [
      ...(s.keyInUrl ? [p.requireKey ? 'site key required' : 'site key (not required: provisioning.requireKey is off)'] : []),
      ...(s.tls ? [p.credentialsOverTls ? 'credentials over TLS only' : 'TLS (plain HTTP also served: provisioning.credentialsOverTls is off)'] : ['plain HTTP (the firmware cannot fetch over TLS)']),
      ...(s.digest && p.digest ? ['HTTP digest with the provisioning user and password'] : []),
      ...(hasCa(m.id) ? ['client certificate from the vendor\'s device CA, naming the MAC'] : []),
      ...(m.dialogue ? ['WPI nonce: credentials only inside a dialogue this server started'] : []),
      ...(p.deviceLock ? ['device lock and enrolment window'] : []),
    ];
    const credentials = s.digest && p.digest ? { user: DIGEST_USER, password: digestPassword(key) } : null;
    return { module: m.id, vendor: m.vendor, where: set.where, value: set.value, protections, credentials };
  });
}
