import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { developmentTrustOf, type LoadedConfig } from './config.js';
import { createLogger, type Logger } from './kernel/log.js';
import { OffsetClock, systemClock, type Clock } from './kernel/clock.js';
import { EventBus } from './kernel/events.js';
import { Store } from './store/store.js';
import { AuditLog } from './core/audit.js';
import { Licensing } from './licensing/licensing.js';
import { AdminAccounts } from './core/admins.js';
import { Devices, type DeviceFamilies } from './core/devices.js';
import { ProvisioningServer } from '../provisioning/server.js';
import { bindToHost, buildInfo, fingerprintDigest, hostFingerprint, resolveIdentity } from './core/system.js';
import type { Core } from './core/core.js';
import { LicenseVerifier, DEVELOPMENT_ROOT } from './licensing/verifier.js';
import { createApp } from './http/app.js';
import { Listener } from './http/listener.js';
import { VIA_CONTROL_SOCKET } from './http/auth.js';
import { Users } from './core/users.js';
import type { Feature } from './feature.js';
import { LiveUpdates } from './http/live.js';
import { MetricsRegistry } from './kernel/metrics.js';
import { registerCoreMetrics } from './core/core-metrics.js';
import { HealthChecks } from './kernel/health.js';
import { HealthFeature } from './http/routes/health.js';
import { SystemdNotifier } from './systemd.js';
import { reloadConfig, type ReloadResult } from './reload.js';
import { TrustedClock } from './licensing/trusted-clock.js';
import { JobRegistry } from './core/jobs.js';
import { Lifecycle } from './core/lifecycle.js';
import { Scheduler } from './scheduler.js';
import { AutoAttendants } from './core/auto-attendants.js';
import { SipTrunks } from './core/sip-trunks.js';
import { ResourcesFeature } from './resources-scheduler.js';
import { ClientSessions } from './core/client-sessions.js';
import { CLIENT_PATH, ClientEndpoint } from './ws/client-endpoint.js';
import { LoginLog } from './core/login-throttle.js';
import { HostCheck, redirectToHttps, refuseHttp } from './http/admin-plane.js';
import { loadOrCreateTls } from '../provisioning/tls.js';
import { LICENSE_CODE, VENDORS } from '../provisioning/vendors/index.js';
import { readableByOthers } from './store/file-modes.js';

interface ReadyInfo {
  /** name → bound address ("127.0.0.1:41234" or a socket path) */
  listeners: Record<string, string>;
  systemId: string;
  mode: string;
}

/** The device families the core knows, and their support licenses: the vendor list's, handed in (the core imports nothing above it). */
export const DEVICE_FAMILIES: DeviceFamilies = { names: VENDORS, licenseCode: LICENSE_CODE };

/**
 * The composition root: config → store → core → adapters → ready.
 * `start()` builds in that order, `stop()` undoes it in reverse.
 */
export class Daemon {
  readonly log: Logger;
  private core: Core | null = null;
  private listeners: Listener[] = [];
  private features: Feature[] = [];
  private offs: Array<() => void> = [];
  private verifier: LicenseVerifier | null = null;
  private trustedClock: TrustedClock | null = null;
  private readonly systemd: SystemdNotifier;
  private phase: 'starting' | 'running' | 'stopping' = 'starting';

  constructor(
    private readonly loaded: LoadedConfig,
    opts: { log?: Logger; clock?: Clock; env?: NodeJS.ProcessEnv } = {},
  ) {
    this.log = opts.log ?? createLogger(loaded.config.log.level);
    this.clockOverride = opts.clock ?? null;
    this.systemd = new SystemdNotifier(this.log, opts.env);
  }

  private readonly clockOverride: Clock | null;

  get state(): Core {
    if (!this.core) throw new Error('daemon not started');
    return this.core;
  }

  async start(): Promise<ReadyInfo> {
    const { config } = this.loaded;
    mkdirSync(config.dataDir, { recursive: true, mode: 0o750 });
    const devClock = config.dev.clockControl ? new OffsetClock(this.clockOverride ?? systemClock) : null;
    const systemTime = devClock ?? this.clockOverride ?? systemClock;
    if (devClock) this.log.warn('development clock control is enabled: admins can move the daemon clock (never enable in production)');

    // ── the store and the clock every decision by date uses ──
    const bus = new EventBus();
    const store = await Store.open(join(config.dataDir, 'pbxd.db'), this.log.child({ component: 'store' }));
    // The trusted clock never runs back: setting the system clock back does not extend a license.
    const clock = (this.trustedClock = await TrustedClock.open(store, systemTime, config.dataDir));
    await clock.persist();
    const build = buildInfo();
    // The system id is bound to this host: data restored or copied from another appliance is detected here.
    const fingerprint = hostFingerprint(config.host);
    const identity = await resolveIdentity(store, fingerprint);
    const systemId = identity.systemId;
    this.log.info('host identity', { systemId, components: identity.components.join(',') || 'none' });
    if (identity.changed.length) this.log.notice('host components changed within the tolerance; the system id is kept', { systemId, changed: identity.changed.join(',') });
    if (identity.adopted) this.log.notice('the database had no host binding yet (an older pbxd); it is bound to this host now', { systemId });
    if (identity.foreign)
      this.log.warn('this data comes from another appliance: Entry mode until a rehost license for this appliance is installed (nothing is deleted)', { dataSystemId: identity.foreign.dataSystemId, systemId });

    // ── domain services (pure: no HTTP, no sockets) ──
    const developmentTrust = this.loaded.developmentTrust !== undefined ? this.loaded.developmentTrust : developmentTrustOf(config, this.loaded.development);
    if (developmentTrust)
      this.log.warn('THE PUBLIC DEVELOPMENT LICENSE ROOT IS TRUSTED: anyone can issue licenses this pbxd accepts (never on a production appliance)', {
        why: developmentTrust === 'checkout' ? 'running from a source checkout' : 'license.trustDevelopmentRoot is true',
      });
    const roots = [...(developmentTrust ? [DEVELOPMENT_ROOT] : []), ...config.license.trustedRoots];
    const verifier = (this.verifier = new LicenseVerifier({ trustedRoots: roots, systemId, buildDate: build.buildDate, maxFutureMinutes: config.license.maxFutureMinutes }));
    const audit = new AuditLog(store, clock, bus);
    const licensing = new Licensing(store, verifier, clock, bus, audit, { graceDays: config.license.graceDays, developmentTrust, dataDir: config.dataDir });
    if (identity.foreign) licensing.setForeignData({ dataSystemId: identity.foreign.dataSystemId, systemId, bind: (tx) => bindToHost(tx, systemId, fingerprint) });
    const admins = new AdminAccounts(store, clock, audit, config.admin);
    const users = new Users(store, licensing, audit, bus, clock);
    const devices = new Devices(store, clock, bus, audit, licensing, users.directory, this.log.child({ component: 'devices' }), DEVICE_FAMILIES, { autoRecordPerSource: config.provisioning.autoRecordPerSource, historySize: 1000 });
    const clientSessions = new ClientSessions(store, licensing, users.directory, users.licenses, bus, clock, audit, this.log.child({ component: 'sessions' }), () => this.state.config.sessions);
    // Business hours follow the clock as set (wallClock), also when it is set back.
    const autoAttendants = new AutoAttendants(store, systemTime, bus, audit, licensing);
    const sipTrunks = new SipTrunks(store, clock, bus, audit, licensing);
    const jobs = new JobRegistry(bus, this.log.child({ component: 'jobs' }), () => clock.now());
    const lifecycle = await Lifecycle.open({ config, log: this.log, clock, bus, store, licensing, jobs, systemId, hostFingerprint: fingerprintDigest(fingerprint), devices });
    const metrics = new MetricsRegistry();
    const health = new HealthChecks();
    const core: Core = { config, log: this.log, clock, wallClock: systemTime, devClock, bus, store, audit, licensing, admins, users, devices, clientSessions, autoAttendants, sipTrunks, jobs, lifecycle, metrics, health, systemId, build };
    this.core = core;
    this.offs.push(registerCoreMetrics(core));
    metrics.gauge('pbxd_login_throttle_entries', 'Sources and accounts the login throttle remembers (bounded)', ['kind'], () => [
      { labels: { kind: 'source' }, value: admins.throttle.size.sources },
      { labels: { kind: 'account' }, value: admins.throttle.size.accounts },
    ]);

    await licensing.loadRevocations();
    await licensing.load();
    await users.ensureSupervisor();
    // Per-user licenses follow the allowance in force: suspended beyond it, restored when covered again.
    const reconcile = () => void users.reconcileSuspensions().catch((e) => this.log.error('suspension reconcile failed', { error: String(e) }));
    bus.on('mode.changed', reconcile);
    bus.on('license.activated', reconcile);
    await users.reconcileSuspensions();
    await devices.load();
    // A user's phones are released in the write that deletes the user; the pass at start
    // repairs what an older build (or a crash before that rule) left behind.
    users.onUserRemoved((tx, userName, by) => devices.releaseUserDevices(tx, userName, by));
    await devices.refreshUsers();
    this.offs.push(() => devices.stop());
    await this.announceInitialAdmin(core);
    this.logEvents(core);

    // ── adapters: each feature is a start/stop unit around the core ──
    this.features = [new HealthFeature(core, () => this.listeners), new Scheduler(core), new LiveUpdates(core), new ProvisioningServer(core), new ResourcesFeature(core), new ClientEndpoint(core)];
    core.health.add('startup', () => (this.phase === 'running' ? null : this.phase));

    const app = createApp(core, this.features);
    // The admin plane: HTTPS with the appliance's certificate (its own CA, shared with provisioning) or
    // the admin's own; only Host names of this appliance (no DNS rebinding). Desktop clients and apps
    // (CLIENT_PATH) are no browsers: they hold no cookie a rebinding page could use, and reach the
    // appliance by whatever name the site gave it.
    const hosts = new HostCheck(config);
    const gate = (req: import('node:http').IncomingMessage) =>
      (req.url ?? '').split('?')[0] === CLIENT_PATH || hosts.allows(req) ? null : refuseHttp('REQ_HOST_UNKNOWN', { host: HostCheck.hostOf(req).slice(0, 100) });
    const tls = !config.http.tls
      ? undefined
      : config.http.certFile
        ? { cert: readFileSync(config.http.certFile, 'utf8'), key: readFileSync(config.http.keyFile, 'utf8') }
        : loadOrCreateTls(config.dataDir, [...new Set([...config.provisioning.hostnames, ...config.http.hostnames, ...HostCheck.ownAddresses()])]);
    const api = new Listener('api', app, tls, gate);
    const control = new Listener('control', (req, res) => {
      (req as unknown as Record<symbol, boolean>)[VIA_CONTROL_SOCKET] = true;
      app(req, res);
    });
    this.listeners.push(api, control);
    const listeners: Record<string, string> = {
      api: await api.listenTcp(config.http.host, config.http.port),
      control: await control.listenUnix(config.control.socket),
    };
    if (tls && config.http.redirect) {
      const httpsPort = Number(listeners.api!.slice(listeners.api!.lastIndexOf(':') + 1));
      const redirect = new Listener('api_redirect', redirectToHttps(httpsPort), undefined, gate);
      this.listeners.push(redirect);
      listeners.api_redirect = await redirect.listenTcp(config.http.host, config.http.redirectPort);
    }
    for (const f of this.features) Object.assign(listeners, (await f.start?.({ api: api.server })) ?? {});

    const exposed = readableByOthers(config.dataDir);
    if (exposed.length) this.log.warn('files in the data folder can be read by other users; make them 0600 (folders 0700)', { count: exposed.length, files: exposed.slice(0, 10) });

    const mode = licensing.mode();
    const ready: ReadyInfo = { listeners, systemId, mode: mode.mode };
    this.log.announce('ready', { ...ready, reason: mode.reason.en, config: this.loaded.file ?? 'development defaults' });
    // READY last: every listener is up and the database migrated.
    this.phase = 'running';
    void this.systemd.ready(`${mode.mode}: ${mode.reason.en}`);
    this.systemd.startWatchdog(async () => {
      const r = await core.health.run();
      return r.ok ? null : Object.entries(r.checks).filter(([, c]) => !c.ok).map(([n, c]) => `${n}: ${c.problem}`).join('; ');
    });
    return ready;
  }

  /** The first admin's generated password goes to a file only root (and pbxd) can read, never into the log. */
  private async announceInitialAdmin(core: Core): Promise<void> {
    const { generatedPassword, weak } = await core.admins.ensureInitialAdmin(core.config.admin.initialPassword);
    if (weak) this.log.warn('the configured admin.initialPassword does not meet the password policy; change it after the first login', { problem: weak });
    if (!generatedPassword) return;
    const file = join(core.config.dataDir, 'initial-admin-password');
    writeFileSync(file, generatedPassword + '\n', { mode: 0o600 });
    this.log.notice('created admin account "admin"; its password is in a file readable only by this user (delete it after the first login)', { file });
  }

  private logEvents(core: Core): void {
    core.bus.on('license.activated', (e) => this.log.notice('license activated', { licenseId: e.data.licenseId, by: e.data.by }));
    core.bus.on('license.refused', (e) => this.log.info('license refused', { code: e.data.refusal.code, by: e.data.by }));
    core.bus.on('mode.changed', (e) => this.log.warn('mode changed', { from: e.data.from, to: e.data.to, reason: e.data.reason }));
    // Failed logins at a bounded rate: a flood becomes one summary line a minute.
    const logins = new LoginLog(this.log);
    this.offs.push(() => logins.stop());
    core.bus.on('admin.login', (e) => (e.data.ok ? logins.success(e.data.name, e.data.from) : logins.failure(e.data.name, e.data.from, e.data.limited ? 'limited' : 'password')));
  }

  /** SIGHUP: read the configuration again and apply what can change without a restart. */
  async reload(): Promise<ReloadResult | null> {
    if (!this.core || !this.verifier) return null;
    await this.systemd.reloading();
    const result = await reloadConfig(this.core, this.verifier, this.features, this.loaded);
    const mode = this.core.licensing.mode();
    await this.systemd.ready(`${mode.mode}: ${mode.reason.en}`);
    return result;
  }

  /** STOPPING first; stop accepting, finish what is in flight, close the database. */
  async stop(): Promise<void> {
    this.phase = 'stopping';
    await this.systemd.stopping();
    for (const off of this.offs) off();
    for (const f of [...this.features].reverse()) await f.stop?.().catch((e) => this.log.error('feature stop failed', { feature: f.name, error: String(e) }));
    await Promise.all(this.listeners.map((l) => l.stop()));
    await this.trustedClock?.persist().catch((e) => this.log.error('persisting the trusted time failed', { error: String(e) }));
    await this.core?.store.close();
    this.log.announce('stopped');
  }
}
