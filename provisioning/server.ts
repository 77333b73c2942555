import type { Router } from 'express';
import type { Core } from '../daemon/core/core.js';
import { phoneFacingRegistrar } from '../daemon/config.js';
import type { Feature } from '../daemon/feature.js';
import { Listener } from '../daemon/http/listener.js';
import { devicesRoutes } from '../daemon/http/routes/devices.js';
import type { Devices } from '../daemon/core/devices.js';
import { ProvisioningPipeline } from './pipeline.js';
import { zoneRule } from './time-zone.js';
import { loadOrCreateTls } from './tls.js';

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
  private readonly unsubscribe: Array<() => void> = [];
  private readonly devices: Devices;
  private httpAddress = '';

  constructor(private readonly core: Core) {
    this.devices = core.devices;
    this.pipeline = new ProvisioningPipeline(core, core.devices);
  }

  routes(): Router {
    return devicesRoutes(this.core);
  }

  private get cfg() {
    return this.core.config.provisioning;
  }

  private configurePipeline(): void {
    const p = this.cfg;
    const registrar = phoneFacingRegistrar(p);
    const port = Number(this.httpAddress.slice(this.httpAddress.lastIndexOf(':') + 1)) || p.httpPort;
    this.pipeline.configure({
      registrar, sipPort: p.sipPort, transport: 'udp', zone: zoneRule(p.timeZone), ntpServer: p.ntpServer, language: p.language,
      baseUrl: `http://${registrar.includes(':') ? `[${registrar}]` : registrar}:${port}`,
    });
  }

  async start(): Promise<Record<string, string>> {
    this.configurePipeline();
    this.devices.onChange((macs, action) => {
      if (action === 'licensed' || action === 'waiting') return; // the configuration itself is unchanged
      for (const mac of macs) this.pipeline.forget(mac);
    });
    // A user's name or extension changed, or a user was deleted (users feature): refresh their devices' lines.
    let pending: NodeJS.Timeout | null = null;
    this.unsubscribe.push(this.core.bus.on('users.changed', () => {
      if (pending) return;
      pending = setTimeout(() => {
        pending = null;
        this.devices.refreshUsers().catch((err) => this.core.log.error('refreshing device lines failed', { error: String(err) }));
      }, 200);
    }));

    this.core.metrics.gauge('pbxd_devices', 'Devices by license state', ['state'], () =>
      Object.entries(this.devices.countByState()).map(([state, value]) => ({ labels: { state }, value })),
    );

    const tls = loadOrCreateTls(this.core.config.dataDir, this.cfg.hostnames);
    const http = new Listener('provisioning_http', this.pipeline.handle);
    const https = new Listener('provisioning_https', this.pipeline.handle, tls);
    const wpi = new Listener('wpi', this.pipeline.handle, tls);
    this.listeners.push(http, https, wpi);
    const bound = {
      provisioning_http: await http.listenTcp(this.cfg.host, this.cfg.httpPort),
      provisioning_https: await https.listenTcp(this.cfg.host, this.cfg.httpsPort),
      wpi: await wpi.listenTcp(this.cfg.host, this.cfg.wpiPort),
    };
    this.httpAddress = bound.provisioning_http;
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
    for (const u of this.unsubscribe) u();
    this.core.metrics.remove('pbxd_devices');
    await Promise.all(this.listeners.map((l) => l.stop()));
    await this.flush();
  }
}
