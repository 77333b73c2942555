import type { Core } from '../../daemon/core/core.js';
import type { Counter } from '../../daemon/kernel/metrics.js';
import type { Text } from '../../daemon/kernel/refusal.js';
import { defineMessages, messageOf, type Values } from '../../daemon/kernel/messages.js';

/** Why a request for a device's credentials was not served. */
export type AlertKind = 'no-key' | 'digest' | 'client-cert' | 'plain-http' | 'foreign-address' | 'outside-subnet' | 'browser' | 'no-agent' | 'host' | 'enumeration' | 'wpi-forged';

interface ProvisioningAlert {
  kind: AlertKind;
  mac: string | null;
  vendor: string | null;
  ip: string;
  /** What was refused, as a message code and its values; `detail` is its English text (logs, scripts). */
  code: string;
  values: Values;
  detail: string;
  text: Text;
  at: string;
}

/** What an alert says, per kind of refused attempt; a value that is a name is quoted in German. */
export const alertMessage = defineMessages({
  'alert.host': { en: 'Host "{host}" is not in provisioning.hostnames', de: 'Der Host "{host}" steht nicht in provisioning.hostnames' },
  'alert.browser': { en: "suspicious: a browser asked for {mac}'s {file} file ({agent})", de: 'verdächtig: Ein Browser hat die Datei "{file}" von "{mac}" angefordert ("{agent}")' },
  'alert.plainHttp': { en: "{mac}'s configuration asked for over plain HTTP", de: 'Die Konfiguration von "{mac}" wurde über unverschlüsseltes HTTP angefordert' },
  'alert.noKey': { en: "{mac}'s configuration asked for without the site key", de: 'Die Konfiguration von "{mac}" wurde ohne den Standortschlüssel angefordert' },
  'alert.digest': { en: "{mac}'s configuration asked for with wrong provisioning credentials", de: 'Die Konfiguration von "{mac}" wurde mit falschen Provisionierungs-Zugangsdaten angefordert' },
  // The certificate's problem is the TLS library's English: German names the fact only.
  'alert.clientCert': { en: "{mac}'s configuration asked for without its factory certificate: {problem}", de: 'Die Konfiguration von "{mac}" wurde ohne sein Werkszertifikat angefordert' },
  'alert.pinned': { en: '{mac} is pinned to {subnet}; asked from {ip} outside an enrolment window', de: '"{mac}" ist an {subnet} gebunden; angefordert von {ip} außerhalb eines Anmeldefensters' },
  'alert.locked': { en: '{mac} is locked to {lockedIp}; asked from {ip} outside an enrolment window', de: '"{mac}" ist an {lockedIp} gebunden; angefordert von {ip} außerhalb eines Anmeldefensters' },
  'alert.enumeration': {
    en: "{count} different devices' credentials asked for within a minute; limited for the rest of the minute",
    de: 'Zugangsdaten von {count} verschiedenen Geräten innerhalb einer Minute angefordert; für den Rest der Minute begrenzt',
  },
  // The WPI detail is the protocol's English.
  'alert.wpiForged': { en: 'WPI reply refused: {detail}', de: 'Eine gefälschte WPI-Antwort wurde abgelehnt' },
});

/** An alert's code: one of the above, or the outcome the pipeline already noted (a profile asked for without the phone's User-Agent). */
export type AlertCode = Parameters<typeof alertMessage>[0] | 'rejected.noAgent';

/** The same alert (kind, device, source) goes into the audit log at most once a minute. */
const AUDIT_EVERY_MS = 60_000;
/** At most this many alert entries a minute in all: an attack must not turn into a write storm. */
const AUDIT_PER_MINUTE = 120;
const KEEP = 1000;

/**
 * Every refused attempt at a device's credentials raises an alert: an event on
 * the bus (live UI), a metric, an entry in the provisioning history and in a
 * ring the API shows, and an audit entry (coalesced per kind, device and
 * source per minute, so a flood cannot flood the audit log).
 */
export class ProvisioningAlerts {
  private readonly recent: ProvisioningAlert[] = [];
  private start = 0;
  private readonly audited = new Map<string, number>();
  private auditWindow = 0;
  private auditedInWindow = 0;
  private readonly counter: Counter;

  constructor(private readonly core: Core) {
    this.counter = core.metrics.counter('pbxd_provisioning_alerts_total', 'Requests for a device\'s credentials that were refused, by reason', ['kind']);
  }

  /** `history`: false when the refusal is already in the provisioning history. */
  raise(kind: AlertKind, mac: string | null, vendor: string | null, ip: string, code: AlertCode, values: Values, history = true): void {
    const said = messageOf(code, values);
    const a: ProvisioningAlert = { kind, mac, vendor, ip, code, values, detail: said.text.en, text: said.text, at: new Date().toISOString() };
    if (this.recent.length < KEEP) this.recent.push(a);
    else (this.recent[this.start] = a), (this.start = (this.start + 1) % KEEP);
    this.counter.inc({ kind });
    this.core.bus.emit('provisioning.alert', a);
    if (history) this.core.devices.note({ mac, vendor, model: null, outcome: 'rejected', code, values, ip });
    this.audit(a);
  }

  /** Into the log and the audit log, coalesced: a source repeating one refused request writes once, not once per request. */
  private audit(a: ProvisioningAlert): void {
    const now = Date.now();
    if (now - this.auditWindow >= 60_000) (this.auditWindow = now), (this.auditedInWindow = 0);
    const key = `${a.kind}\0${a.mac}\0${a.ip}`;
    if (now - (this.audited.get(key) ?? -Infinity) < AUDIT_EVERY_MS || this.auditedInWindow >= AUDIT_PER_MINUTE) return;
    if (this.audited.size > 10_000) this.audited.clear();
    this.audited.set(key, now);
    this.auditedInWindow++;
    this.core.log.warn('provisioning alert', { kind: a.kind, mac: a.mac, ip: a.ip, detail: a.detail });
    this.core.store
      .write((tx) => this.core.audit.append(tx, 'provisioning', 'provisioning.alert', a.mac ?? a.ip, { kind: a.kind, ip: a.ip, vendor: a.vendor, code: a.code, values: a.values, detail: a.detail }))
      .catch((e) => this.core.log.error('could not write a provisioning alert to the audit log', { error: String(e) }));
  }

  /** Newest first. */
  list(limit: number): ProvisioningAlert[] {
    return [...this.recent.slice(this.start), ...this.recent.slice(0, this.start)].reverse().slice(0, limit);
  }
}
