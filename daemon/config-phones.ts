import type { Config } from './config-keys.js';

/**
 * What phones are told about the appliance, and the settings that would give
 * them a configuration they cannot use (checked when the configuration loads).
 */

/** The registrar address phones are told: the SIP registrar, else the first hostname, else the listening address. */
export function phoneFacingRegistrar(p: Config['provisioning']): string {
  return p.sipRegistrar || p.hostnames[0] || p.host;
}

const LOOPBACK = /^(localhost|localhost\.localdomain|ip6-localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i;
const UNSPECIFIED = /^(0\.0\.0\.0|::|\[::\])$/;

/**
 * Settings that would give phones a configuration they cannot use: outside
 * development, a registrar of "localhost" (or 127.x) while phones on the LAN
 * can reach the provisioning ports; a time zone the runtime does not know.
 */
export function provisioningProblems(p: Config['provisioning'], development: boolean): string[] {
  const problems: string[] = [];
  const named = phoneFacingRegistrar(p);
  if (!development && (LOOPBACK.test(named) || UNSPECIFIED.test(named)) && !LOOPBACK.test(p.host)) {
    problems.push(`provisioning.sipRegistrar: phones would be told to register at "${named}", which is each phone itself; set the appliance's address or DNS name (systemd/install.sh --address ADDRESS writes it)`);
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone: p.timeZone });
  } catch {
    problems.push(`provisioning.timeZone: "${p.timeZone}" is not an IANA time zone (e.g. Europe/Berlin)`);
  }
  return problems;
}

