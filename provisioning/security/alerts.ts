import type { Core } from '../../daemon/core/core.js';
import type { Counter } from '../../daemon/kernel/metrics.js';

/** Why a request for a device's credentials was not served. */
export type AlertKind = 'no-key' | 'digest' | 'client-cert' | 'plain-http' | 'foreign-address' | 'outside-subnet' | 'browser' | 'no-agent' | 'host' | 'enumeration' | 'wpi-forged';

interface ProvisioningAlert {
  kind: AlertKind;
  mac: string | null;
  vendor: string | null;
  ip: string;
  detail: string;
  at: string;
}

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
  raise(kind: AlertKind, mac: string | null, vendor: string | null, ip: string, detail: string, history = true): void {
    const a: ProvisioningAlert = { kind, mac, vendor, ip, detail, at: new Date().toISOString() };
    if (this.recent.length < KEEP) this.recent.push(a);
    else (this.recent[this.start] = a), (this.start = (this.start + 1) % KEEP);
    this.counter.inc({ kind });
    this.core.bus.emit('provisioning.alert', a);
    if (history) this.core.devices.note({ mac, vendor, model: null, outcome: 'rejected', detail, ip });
    this.core.log.warn('provisioning alert', { kind, mac, ip, detail });
    this.audit(a);
  }

  private audit(a: ProvisioningAlert): void {
    const now = Date.now();
    if (now - this.auditWindow >= 60_000) (this.auditWindow = now), (this.auditedInWindow = 0);
    const key = `${a.kind}\0${a.mac}\0${a.ip}`;
    if (now - (this.audited.get(key) ?? -Infinity) < AUDIT_EVERY_MS || this.auditedInWindow >= AUDIT_PER_MINUTE) return;
    if (this.audited.size > 10_000) this.audited.clear();
    this.audited.set(key, now);
    this.auditedInWindow++;
    this.core.store
      .write((tx) => this.core.audit.append(tx, 'provisioning', 'provisioning.alert', a.mac ?? a.ip, { kind: a.kind, ip: a.ip, vendor: a.vendor, detail: a.detail }))
      .catch((e) => this.core.log.error('could not write a provisioning alert to the audit log', { error: String(e) }));
  }

  /** Newest first. */
  list(limit: number): ProvisioningAlert[] {
    return [...this.recent.slice(this.start), ...this.recent.slice(0, this.start)].reverse().slice(0, limit);
  }
}
