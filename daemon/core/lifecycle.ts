import type { Config } from '../config.js';
import type { Store } from '../store/store.js';
import type { EventBus } from '../kernel/events.js';
import type { Logger } from '../kernel/log.js';
import type { Licensing } from '../licensing/licensing.js';
import type { JobRegistry } from './jobs.js';
import type { TrustedClock } from '../licensing/trusted-clock.js';
import { ActivationClient } from '../licensing/activation-client.js';
import { Renewal } from '../licensing/renewal.js';
import { ExpiryWatch } from '../licensing/expiry-watch.js';
import { Backups } from './backups.js';
import { defineMessages, type Message } from '../kernel/messages.js';
import { UsageReports } from '../licensing/usage-report.js';

/** What the stale-devices job needs of the device service. */
interface StaleDeviceReleaser {
  /** Release the support license of every device not seen for `days`; returns the MACs released. */
  releaseStale(days: number, by: string): Promise<string[]>;
}

interface LifecycleDeps {
  config: Config;
  log: Logger;
  clock: TrustedClock;
  bus: EventBus;
  store: Store;
  licensing: Licensing;
  jobs: JobRegistry;
  systemId: string;
  /** One hash of the host fingerprint, for the usage report. */
  hostFingerprint?: string;
  /** Looked up at run time: the device service may be added to the core after this is built. */
  devices: StaleDeviceReleaser;
}

/** What the lifecycle's jobs did (their results). */
const say = defineMessages({
  'check.skipped': { en: 'skipped: no activation server configured (activation.url)', de: 'übersprungen: kein Aktivierungsserver eingerichtet (activation.url)' },
  'check.nothingNew': { en: 'nothing new', de: 'nichts Neues' },
  'check.installed': { en: 'installed {licenseId}', de: 'Lizenz "{licenseId}" installiert' },
  'check.installedLater': { en: 'installed {licenseId} (activates on {activatesAt})', de: 'Lizenz "{licenseId}" installiert (wird am {activatesAt} aktiv)' },
  'check.needsRemovals': { en: 'needs removals {licenseId}', de: 'Lizenz "{licenseId}" braucht zuerst Entfernungen' },
  'clock.ok': { en: 'system clock ok', de: 'Systemuhr in Ordnung' },
  // Also the overview's alert (the web UI words it from here).
  'clock.behind': {
    en: 'The system clock is {minutes} minute(s) behind the trusted time ({trustedTime}); expiry decisions use the trusted time.',
    de: 'Die Systemuhr geht {minutes} Minute(n) hinter der vertrauenswürdigen Zeit ({trustedTime}) nach; Ablaufentscheidungen nutzen die vertrauenswürdige Zeit.',
  },
  'stale.released': { en: 'released {count} device(s) not seen for {days} days', de: '{count} Gerät(e) freigegeben, seit {days} Tagen nicht gesehen' },
});

/**
 * The license over time: expiry and grace, renewal online and offline,
 * clock rollback, backups, usage peaks. Registers its jobs; the scheduler
 * (an adapter) decides when they run.
 */
export class Lifecycle {
  readonly renewal: Renewal;
  readonly expiry: ExpiryWatch;
  readonly backups: Backups;
  private config: Config;
  private rollbackReported = false;

  private constructor(
    private readonly d: LifecycleDeps,
    readonly usage: UsageReports,
  ) {
    this.config = d.config;
    const client = new ActivationClient(() => this.config.activation);
    this.renewal = new Renewal(d.licensing, client, d.systemId, d.bus);
    this.expiry = new ExpiryWatch(d.licensing, d.store, d.clock, d.bus, d.log.child({ component: 'expiry' }));
    this.backups = new Backups(d.store, d.config.dataDir, d.clock);
  }

  static async open(d: LifecycleDeps): Promise<Lifecycle> {
    const usage = await UsageReports.open({ store: d.store, licensing: d.licensing, clock: d.clock, systemId: d.systemId, dataDir: d.config.dataDir, hostFingerprint: d.hostFingerprint });
    const l = new Lifecycle(d, usage);
    l.registerJobs();
    return l;
  }

  /** Settings read at run time pick up a reloaded configuration. */
  reload(config: Config): void {
    this.config = config;
  }

  private registerJobs(): void {
    const j = this.config.jobs;
    const reg = (name: keyof Config['jobs'], run: () => Promise<Message | Message[]>, eventSpacingMs?: number) =>
      this.d.jobs.register({ name, schedule: j[name].schedule, enabled: j[name].enabled, run, eventSpacingMs });
    reg('expiryWatch', () => this.expiry.run());
    reg('licenseCheck', async () => {
      if (!this.renewal.client.configured) return say('check.skipped');
      const r = await this.renewal.check('scheduler');
      if (r.result === 'nothing new') return say('check.nothingNew');
      if (r.result === 'needs removals') return say('check.needsRemovals', { licenseId: r.licenseId! });
      return r.activatesAt ? say('check.installedLater', { licenseId: r.licenseId!, activatesAt: r.activatesAt }) : say('check.installed', { licenseId: r.licenseId! });
    });
    reg('clockRollback', () => this.checkClock());
    reg('backup', () => this.backups.run(this.config.jobs.backup.keep));
    reg('staleDevices', () => this.releaseStaleDevices());
    // Every change of what is in use triggers it: a boot storm must not become a storm of peak runs.
    reg('usagePeaks', () => this.usage.recordPeaks(), 1000);
  }

  /** A backup on demand, with the same rotation as the scheduled one. */
  async backupNow() {
    const f = await this.backups.backup();
    this.backups.rotate(this.config.jobs.backup.keep);
    return f;
  }

  /** The system clock as the overview shows it: how far behind the trusted time, when beyond the tolerance. */
  clockBehind(): { behindMinutes: number; trustedTime: string } | null {
    const behind = this.d.clock.behindMs();
    if (behind <= this.config.jobs.clockRollback.toleranceMinutes * 60_000) return null;
    return { behindMinutes: Math.round(behind / 60_000), trustedTime: this.d.clock.now().toISOString() };
  }

  /** Persist the trusted time; report a system clock far behind it (once per episode). */
  async checkClock(): Promise<Message> {
    const clock = this.d.clock;
    const behind = clock.behindMs();
    await clock.persist();
    const toleranceMs = this.config.jobs.clockRollback.toleranceMinutes * 60_000;
    if (behind <= toleranceMs) {
      this.rollbackReported = false;
      return say('clock.ok');
    }
    const data = { systemTime: clock.system.now().toISOString(), trustedTime: clock.now().toISOString(), behindMinutes: Math.round(behind / 60_000) };
    if (!this.rollbackReported) {
      this.rollbackReported = true;
      this.d.bus.emit('clock.rollback', data);
      this.d.log.warn('system clock is behind the trusted time; expiry decisions use the trusted time', data);
    }
    return say('clock.behind', { minutes: data.behindMinutes, trustedTime: data.trustedTime });
  }

  async releaseStaleDevices(): Promise<Message> {
    const days = this.config.jobs.staleDevices.days;
    const macs = await this.d.devices.releaseStale(days, 'scheduler');
    for (const mac of macs) {
      this.d.bus.emit('device.staleReleased', { mac, days });
      this.d.log.notice('released the support license of a device not seen for a long time', { mac, days });
    }
    return say('stale.released', { count: macs.length, days });
  }
}
