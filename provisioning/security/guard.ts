import type { TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import { sourceKey } from '../../daemon/core/login-throttle.js';
import { HostCheck } from '../../daemon/http/admin-plane.js';
import type { Core } from '../../daemon/core/core.js';
import { DONE, type Exchange, type ProvisioningPipeline } from '../pipeline.js';
import type { ProvisioningAlerts, AlertKind, AlertCode } from './alerts.js';
import type { Values } from '../../daemon/kernel/messages.js';
import type { ProvisioningSecurity } from './state.js';
import type { VendorCas } from './vendor-ca.js';
import { DigestAuth } from './digest.js';

/** A browser's User-Agent (a phone's own forms are read by its vendor module first). */
const BROWSER = /\bMozilla\/5\.0\b|\b(?:Chrome|Firefox|Safari|Edg|OPR)\//;
const KEYED = /^\/([0-9a-f]{32})(\/.+)$/;

/**
 * The security stages of the provisioning pipeline. A device's credentials go
 * only to the device they belong to:
 *
 *   key       (before identify)  /<site key>/… is taken off the path and noted
 *   screen    (before look up)   Host must be one of the appliance's names; no browser asks for a phone's file
 *   guard     (before claim)     for a request that hands out credentials: over TLS where the vendor can
 *                                (credentialsOverTls), with the key where the vendor is given a URL
 *                                (requireKey), with a factory certificate naming its MAC where the vendor's
 *                                device CA is installed, from the address the device is locked to (deviceLock)
 *   lock      (before answer)    the device is locked to the address it was just served at
 *
 * A refused request changes nothing in the device table and raises an alert.
 * A source that asks for many devices it is not entitled to is limited.
 */
export class ProvisioningGuard {
  private foreign = new Map<string, Set<string>>();
  private foreignWindow = 0;
  private readonly limited = new Set<string>();
  private readonly digest = new DigestAuth();
  /** Host headers already judged (phones send the same few): header → known. Cleared on reload and when full. */
  private readonly hosts = new Map<string, boolean>();
  private hostsFor: [unknown, string] = [null, ''];

  constructor(
    private readonly core: Core,
    private readonly pipeline: ProvisioningPipeline,
    private readonly security: ProvisioningSecurity,
    private readonly alerts: ProvisioningAlerts,
    private readonly vendorCas: VendorCas,
  ) {}

  private get cfg() {
    return this.core.config.provisioning;
  }

  install(): void {
    const p = this.pipeline;
    p.insertBefore('identify', { name: 'key', run: (x) => this.key(x) });
    p.insertBefore('look up', { name: 'screen', run: (x) => this.screen(x) });
    p.insertBefore('claim', { name: 'guard', run: (x) => this.guard(x) });
    p.insertBefore('answer', { name: 'lock', run: (x) => this.lock(x) });
    p.onReject((x, r) => {
      if (r.code === 'PROV_WPI_NONCE') this.alerts.raise('wpi-forged', null, 'unify', x.ip, 'alert.wpiForged', { detail: r.detail });
      // The pipeline refused (and recorded) a profile asked for without the phone's User-Agent.
      if (r.code === 'PROV_SUSPICIOUS') this.refusedAttempt(x, 'no-agent', 'rejected.noAgent', { mac: x.device?.mac ?? '', agent: String(x.req.headers['user-agent'] ?? 'none').slice(0, 60) }, false);
    });
  }

  private key(x: Exchange): undefined {
    const m = KEYED.exec(x.path);
    if (!m) return undefined;
    const k = this.security.matchKey(m[1]!);
    if (!k) return undefined; // a wrong key: the path is no file, a miss (limited per source)
    x.key = k;
    x.path = m[2]!;
    const host = this.pipeline.current.registrar;
    x.baseUrl = `${x.listener.encrypted ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${x.listener.port}/${m[1]}`;
    return undefined;
  }

  private screen(x: Exchange): typeof DONE | undefined {
    const host = x.req.headers.host;
    if (host !== undefined && !this.knownHost(host)) {
      // DNS rebinding: a browser sent here under another name. Nothing is looked up or recorded.
      if (x.who!.mac) this.refusedAttempt(x, 'host', 'alert.host', { host: host.slice(0, 60) });
      return this.pipeline.refuseFromStage(x, 'PROV_HOST_UNKNOWN', host.slice(0, 60));
    }
    const ua = x.req.headers['user-agent'];
    const who = x.who!;
    if (who.mac && !who.byAgent && !x.turn && ua && BROWSER.test(ua)) {
      this.refusedAttempt(x, 'browser', 'alert.browser', { mac: who.mac, file: who.kind, agent: ua.slice(0, 60) });
      return this.pipeline.refuseFromStage(x, 'PROV_SUSPICIOUS', 'a browser asked for a phone\'s file');
    }
    return undefined;
  }

  /** An IP literal (no rebinding possible), or a name the appliance has. */
  private knownHost(header: string): boolean {
    const p = this.cfg;
    if (this.hostsFor[0] !== p.hostnames || this.hostsFor[1] !== p.sipRegistrar || this.hosts.size > 256) this.hosts.clear(), (this.hostsFor = [p.hostnames, p.sipRegistrar]);
    let known = this.hosts.get(header);
    if (known === undefined) this.hosts.set(header, (known = this.judgeHost(header)));
    return known;
  }

  private judgeHost(header: string): boolean {
    const h = HostCheck.hostOfHeader(header);
    if (isIP(h)) return true;
    const p = this.cfg;
    return p.hostnames.some((n) => n.toLowerCase() === h) || p.sipRegistrar.toLowerCase() === h;
  }

  private guard(x: Exchange): typeof DONE | undefined {
    const p = this.cfg;
    const d = x.device!;
    if (!this.pipeline.handsOut(x)) {
      // A file without secrets (an index, a dialogue's first step) from an address the device is not locked to
      // is answered, but does not move what the device table shows of it.
      const c = p.deviceLock ? this.security.check(d.mac, x.ip) : 'same';
      x.quiet = c === 'foreign-address' || c === 'outside-subnet';
      return undefined;
    }
    const sec = x.who!.module.security;
    const decision = p.deviceLock ? this.security.check(d.mac, x.ip) : 'same';
    const entitled = decision === 'same' || decision === 'in-subnet';
    if (!entitled && this.isLimited(x.ip)) return this.pipeline.refuseFromStage(x, 'PROV_ENUMERATION', `more than ${p.foreignMacsPerMinute} devices a minute`, { 'retry-after': '60' });
    if (p.credentialsOverTls && sec.tls && !x.listener.encrypted) {
      this.refusedAttempt(x, 'plain-http', 'alert.plainHttp', { mac: d.mac });
      return this.pipeline.refuseFromStage(x, 'PROV_TLS_REQUIRED', `${x.who!.module.id} fetches over HTTPS`);
    }
    if (p.requireKey && sec.keyInUrl && !x.key) {
      this.refusedAttempt(x, 'no-key', 'alert.noKey', { mac: d.mac });
      return this.pipeline.refuseFromStage(x, 'PROV_KEY_REQUIRED', 'no key in the path');
    }
    if (p.digest && sec.digest && !x.turn) {
      const auth = this.digest.check(x.req.headers.authorization, x.req.method ?? 'GET', x.req.url ?? '', this.security.validDigestPasswords());
      if (auth !== 'ok') {
        // The first request of every phone comes without credentials: only wrong ones are an attempt.
        if (auth === 'wrong') this.refusedAttempt(x, 'digest', 'alert.digest', { mac: d.mac });
        return this.pipeline.refuseFromStage(x, 'PROV_AUTH_REQUIRED', auth === 'wrong' ? 'wrong user or password' : 'digest authentication', { 'www-authenticate': this.digest.challenge(auth === 'stale') });
      }
    }
    const certProblem = this.vendorCas.refusal(x.who!.module.id, x.req.socket as TLSSocket, x.listener.encrypted, d.mac);
    if (certProblem) {
      this.refusedAttempt(x, 'client-cert', 'alert.clientCert', { mac: d.mac, problem: certProblem });
      return this.pipeline.refuseFromStage(x, 'PROV_CLIENT_CERT', certProblem);
    }
    if (decision === 'foreign-address' || decision === 'outside-subnet') {
      const l = this.security.lockOf(d.mac)!;
      const where = decision === 'outside-subnet' ? `pinned to ${l.subnet}` : `locked to ${l.ip}`;
      this.security.refused(d.mac, x.ip);
      if (decision === 'outside-subnet') this.refusedAttempt(x, decision, 'alert.pinned', { mac: d.mac, subnet: l.subnet ?? '', ip: x.ip });
      else this.refusedAttempt(x, decision, 'alert.locked', { mac: d.mac, lockedIp: l.ip ?? '', ip: x.ip });
      // The phone keeps the configuration it has: a refusal (or the dialogue's polite end), never one without its line.
      return this.pipeline.refuseFromStage(x, 'PROV_DEVICE_LOCKED', where);
    }
    return undefined;
  }

  private lock(x: Exchange): undefined {
    if (!this.cfg.deviceLock || !this.pipeline.handsOut(x)) return undefined;
    const d = x.device!;
    const before = this.security.lockOf(d.mac)?.ip ?? null;
    this.security.confirm(d.mac, x.ip);
    if (before && before !== this.security.lockOf(d.mac)?.ip) this.core.log.notice('device moved inside its enrolment window', { mac: d.mac, from: before, to: x.ip });
    return undefined;
  }

  /** Raise the alert and count the device against the source's per-minute allowance. */
  private refusedAttempt(x: Exchange, kind: AlertKind, code: AlertCode, values: Values, history = true): void {
    const who = x.who;
    const mac = x.device?.mac ?? who?.mac ?? null;
    this.alerts.raise(kind, mac, who?.module.vendor ?? null, x.ip, code, values, history);
    if (!mac || !this.core.devices.get(mac)) return;
    const now = Date.now();
    if (now - this.foreignWindow >= 60_000) (this.foreign = new Map()), this.limited.clear(), (this.foreignWindow = now);
    // Per source as the login throttle counts it: an IPv6 host owns its whole /64.
    const source = sourceKey(x.ip);
    let macs = this.foreign.get(source);
    if (!macs) {
      if (this.foreign.size >= 50_000) return;
      this.foreign.set(source, (macs = new Set()));
    }
    macs.add(mac);
    if (macs.size > this.cfg.foreignMacsPerMinute && !this.limited.has(source)) {
      this.limited.add(source);
      this.alerts.raise('enumeration', null, null, x.ip, 'alert.enumeration', { count: macs.size });
    }
  }

  private isLimited(ip: string): boolean {
    if (Date.now() - this.foreignWindow >= 60_000) return false;
    return this.limited.has(sourceKey(ip));
  }
}
