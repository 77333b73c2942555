import type { Core } from '../daemon/core/core.js';
import { phoneFacingRegistrar } from '../daemon/config.js';
import type { Feature } from '../daemon/feature.js';
import { Listener } from '../daemon/http/listener.js';
import type { Devices } from '../daemon/core/devices.js';
import { ProvisioningPipeline } from './pipeline.js';
import { zoneRule } from './time-zone.js';
import { loadOrCreateTls } from './tls.js';
import type { Router } from 'express';
import { provisioningSecurityRoutes } from './security/routes.js';
import { ProvisioningSecurity } from './security/state.js';
import { ProvisioningAlerts } from './security/alerts.js';
import { ProvisioningGuard } from './security/guard.js';
import { provisioningUrls, type VendorUrl } from './security/urls.js';
import { VendorCas } from './security/vendor-ca.js';
import type { Server as TlsServer } from 'node:tls';
import { VENDOR_MODULES } from './vendors/index.js';

/** The port of a bound address ("127.0.0.1:6970", "[::1]:6970"); 0 before it is bound. */
const portOf = (address: string | undefined): number => Number(address?.slice(address.lastIndexOf(':') + 1)) || 0;

/** How often batched last_seen/last_ip are written. */
const SEEN_FLUSH_MS = 5000;
/** Settings that go into configurations (a change renders them again). */
const RENDERED_SETTINGS = /^provisioning\.(sipRegistrar|hostnames|sipPort|timeZone|ntpServer|language|httpPort)$/;

/**
 * The provisioning server: three listeners (HTTP 6970, HTTPS 6971, WPI HTTPS
 * 18443) on one bare node:http handler, the pipeline's. No middleware chain,
 * no query per request: devices come from the in-memory index of
 * `core.devices`; last_seen is batched.
 */
export class ProvisioningServer implements Feature {
  readonly name = 'provisioning';
  readonly pipeline: ProvisioningPipeline;
  private readonly listeners: Listener[] = [];
  private timers: NodeJS.Timeout[] = [];
  private readonly devices: Devices;
  private httpAddress = '';
  private bound: Record<string, string> = {};
  readonly security: ProvisioningSecurity;
  readonly alerts: ProvisioningAlerts;
  readonly vendorCas: VendorCas;

  constructor(private readonly core: Core) {
    this.devices = core.devices;
    this.pipeline = new ProvisioningPipeline(core, core.devices);
    this.security = new ProvisioningSecurity(core.store, core.clock, core.audit, core.devices, core.log);
    this.alerts = new ProvisioningAlerts(core);
    this.vendorCas = new VendorCas(core, VENDOR_MODULES);
    new ProvisioningGuard(core, this.pipeline, this.security, this.alerts, this.vendorCas).install();
  }

  routes(): Router[] {
    return [provisioningSecurityRoutes(this.core, { security: this.security, alerts: this.alerts, vendorCas: this.vendorCas, urls: () => this.urls() })];
  }

  /** Per vendor, what the admin sets on the phone, for the ports as bound. */
  urls(): VendorUrl[] {
    const port = (name: string, fallback: number) => portOf(this.bound[name]) || fallback;
    const p = this.cfg;
    return provisioningUrls(VENDOR_MODULES, { key: this.security.key, digestPassword: this.security.digestPassword }, phoneFacingRegistrar(p), { http: port('provisioning_http', p.httpPort), https: port('provisioning_https', p.httpsPort), wpi: port('wpi', p.wpiPort) }, p, (id) => this.vendorCas.has(id));
  }

  private get cfg() {
    return this.core.config.provisioning;
  }

  private configurePipeline(): void {
    const p = this.cfg;
    const registrar = phoneFacingRegistrar(p);
    const port = portOf(this.httpAddress) || p.httpPort;
    this.pipeline.configure({
      registrar, sipPort: p.sipPort, transport: 'udp', zone: zoneRule(p.timeZone), ntpServer: p.ntpServer, language: p.language,
      baseUrl: `http://${registrar.includes(':') ? `[${registrar}]` : registrar}:${port}`,
    });
  }

  async start(): Promise<Record<string, string>> {
    this.configurePipeline();
    await this.security.load();
    this.devices.onChange((macs, action) => {
      // A device given to a user may enrol, or move, for the configured minutes.
      if (action === 'assigned') for (const mac of macs) this.security.enrolOnAssign(mac, this.cfg.enrolmentMinutes);
      if (action === 'licensed' || action === 'waiting') return; // the configuration itself is unchanged
      for (const mac of macs) this.pipeline.forget(mac);
    });
    this.core.metrics.gauge('pbxd_devices', 'Devices by license state', ['state'], () =>
      Object.entries(this.devices.countByState()).map(([state, value]) => ({ labels: { state }, value })),
    );

    const tls = loadOrCreateTls(this.core.config.dataDir, this.cfg.hostnames);
    const facts = { http: { port: 0, encrypted: false }, https: { port: 0, encrypted: true }, wpi: { port: 0, encrypted: true } };
    const http = new Listener('provisioning_http', this.pipeline.handlerFor(facts.http));
    const https = new Listener('provisioning_https', this.pipeline.handlerFor(facts.https), tls);
    const wpi = new Listener('wpi', this.pipeline.handlerFor(facts.wpi), tls);
    this.vendorCas.load();
    this.vendorCas.attach([https, wpi].map((l) => ({ server: l.server as unknown as TlsServer, key: tls.key, cert: tls.cert })));
    this.listeners.push(http, https, wpi);
    const bound = {
      provisioning_http: await http.listenTcp(this.cfg.host, this.cfg.httpPort),
      provisioning_https: await https.listenTcp(this.cfg.host, this.cfg.httpsPort),
      wpi: await wpi.listenTcp(this.cfg.host, this.cfg.wpiPort),
    };
    facts.http.port = portOf(bound.provisioning_http);
    facts.https.port = portOf(bound.provisioning_https);
    facts.wpi.port = portOf(bound.wpi);
    this.httpAddress = bound.provisioning_http;
    this.bound = bound;
    this.configurePipeline(); // files that name other files carry the bound port
    this.timers.push(setInterval(() => void this.flush(), SEEN_FLUSH_MS).unref());
    this.core.log.info('provisioning listening', { ...bound, registrar: phoneFacingRegistrar(this.cfg), certificate: tls.origin, devices: this.devices.size });
    return bound;
  }

  private async flush(): Promise<void> {
    try {
      await this.devices.flushSeen();
    } catch (e) {
      this.core.log.warn('could not write last-seen times; will retry', { error: String(e) });
    }
  }

  /** SIGHUP: settings that go into configurations are rendered again; limits apply at once (they are read per request). */
  reload(_config: unknown, applied: string[]): void {
    this.devices.options.autoRecordPerSource = this.cfg.autoRecordPerSource;
    if (applied.some((k) => RENDERED_SETTINGS.test(k))) {
      this.configurePipeline();
      this.core.log.info('provisioning configurations rendered again', { changed: applied.filter((k) => k.startsWith('provisioning.')) });
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.core.metrics.remove('pbxd_devices');
    await Promise.all(this.listeners.map((l) => l.stop()));
    await this.flush();
    await this.security.flush();
  }
}
