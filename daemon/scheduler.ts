import cron, { type ScheduledTask } from 'node-cron';
import type { Config } from './config.js';
import type { Core } from './core/core.js';
import type { Feature } from './feature.js';

/** A boundary timer never sleeps longer than this; the cron schedule is the safety net anyway. */
const MAX_TIMER_MS = 60 * 60_000;

/**
 * The cron adapter: runs the jobs of `core.jobs` on their schedules, plus a
 * precise timer to the next license boundary (expiry, grace day, scheduled
 * activation), so the mode changes on time and not up to a minute late.
 */
export class Scheduler implements Feature {
  readonly name = 'scheduler';
  private tasks = new Map<string, ScheduledTask>();
  private boundaryTimer: NodeJS.Timeout | null = null;
  private unsubscribe: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly core: Core) {}

  async start(): Promise<void> {
    this.core.jobs.setNextRunSource((name) => this.tasks.get(name)?.getNextRun() ?? null);
    this.arm();
    const { bus, jobs } = this.core;
    this.unsubscribe.push(
      // A moved clock (development) or a new license changes the boundaries: look again now.
      bus.on('clock.changed', () => void jobs.trigger('clockRollback', 'event').then(() => jobs.trigger('expiryWatch', 'event'))),
      bus.on('license.activated', () => void jobs.trigger('expiryWatch', 'event').then(() => jobs.trigger('usagePeaks', 'event'))),
      bus.on('license.scheduled', () => void jobs.trigger('expiryWatch', 'event')),
      // Peaks for the usage report follow what is in use, not only the hourly schedule.
      ...(['users.changed', 'userLicenses.changed', 'devices.changed'] as const).map((name) => bus.on(name, () => void jobs.trigger('usagePeaks', 'event'))),
      bus.on('job.finished', (e) => {
        if (e.data.name === 'expiryWatch') this.armBoundary();
      }),
    );
    // At start: the trusted time is written and the mode judged before anyone asks.
    await jobs.trigger('clockRollback', 'event');
    await jobs.trigger('expiryWatch', 'event');
  }

  /** (Re)create one cron task per enabled job. */
  private arm(): void {
    for (const t of this.tasks.values()) void t.destroy();
    this.tasks.clear();
    // node-cron's own messages (e.g. a missed tick after the machine slept) go to our journald lines, not to bare stdout.
    const log = this.core.log.child({ component: 'cron' });
    const logger = { info: (m: string) => log.debug(m), debug: (m: string | Error) => log.debug(String(m)), warn: (m: string) => log.info(m), error: (m: string | Error) => log.warn(String(m)) };
    for (const spec of this.core.jobs.specs()) {
      if (!spec.enabled) continue;
      const task = cron.schedule(spec.schedule, () => this.core.jobs.trigger(spec.name, 'schedule'), { name: `pbxd-${spec.name}`, unref: true, logger });
      this.tasks.set(spec.name, task);
    }
  }

  private armBoundary(): void {
    if (this.boundaryTimer) clearTimeout(this.boundaryTimer);
    this.boundaryTimer = null;
    if (this.stopped) return;
    const next = this.core.lifecycle.expiry.nextBoundary();
    if (!next) return;
    const ms = Math.min(Math.max(next.getTime() - this.core.clock.now().getTime(), 0) + 20, MAX_TIMER_MS);
    this.boundaryTimer = setTimeout(() => void this.core.jobs.trigger('expiryWatch', 'event'), ms).unref();
  }

  /** New schedules and settings from a reloaded configuration (SIGHUP). */
  reload(config: Config, applied: string[] = []): void {
    this.core.lifecycle.reload(config);
    if (applied.length && !applied.some((k) => k.startsWith('jobs.'))) return;
    for (const [name, job] of Object.entries(config.jobs)) this.core.jobs.configure(name, { schedule: job.schedule, enabled: job.enabled });
    this.arm();
    this.core.log.info('job schedules reloaded', { jobs: this.core.jobs.specs().map((s) => `${s.name}=${s.enabled ? s.schedule : 'off'}`).join(' ') });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    for (const t of this.tasks.values()) await t.destroy();
    this.tasks.clear();
    if (this.boundaryTimer) clearTimeout(this.boundaryTimer);
    await this.core.jobs.settle();
    // The trusted time survives the restart (a clock set back while we were down is still caught).
    await this.core.lifecycle.checkClock().catch((e) => this.core.log.error('could not persist the trusted time', { error: String(e) }));
  }
}
