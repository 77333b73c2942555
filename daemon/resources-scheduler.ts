import type { Core } from './core/core.js';
import type { Feature } from './feature.js';
import { defineMessages, type Message } from './kernel/messages.js';
import { resourceRoutes } from './http/routes/resources.js';

/** What a run of the switch job did (its result). */
const say = defineMessages({
  'aa.opened': { en: 'switched {name} → open', de: '"{name}" geöffnet' },
  'aa.closed': { en: 'switched {name} → closed', de: '"{name}" geschlossen' },
  'aa.unchanged': { en: 'no change', de: 'keine Änderung' },
  'aa.next': { en: 'next switch {at}', de: 'nächste Umschaltung {at}' },
});

/** The job that switches auto attendants (listed by `pbxctl jobs`, counted in pbxd_job_runs_total). */
const SWITCH_JOB = 'autoAttendants';

/** setTimeout cannot wait longer than this (about 24.8 days); a longer wait is re-armed by the cron run. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Auto attendants and SIP trunks as one start/stop unit: their admin routes,
 * and the switching of attendants between open and closed.
 *
 * Switching is the job `autoAttendants` of `core.jobs`, triggered two ways on
 * purpose. The scheduler's node-cron task runs it once a minute as a safety net
 * (a timer that fired early or late, a suspended VM, a clock set by NTP); but
 * node-cron fires only on whole minutes of the real clock, so a setTimeout armed
 * for the earliest `nextChange` runs it at the exact boundary. Start-up, a moved
 * clock (`clock.changed`) and every edit run it at once. The job registry keeps
 * runs from overlapping and folds a burst of triggers into one more run.
 */
export class ResourcesFeature implements Feature {
  readonly name = 'resources';
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly core: Core) {
    // Registered before the scheduler starts, which arms one cron task per job.
    core.jobs.register({ name: SWITCH_JOB, schedule: '* * * * *', enabled: true, run: () => this.switchAttendants() });
  }

  routes() {
    return [resourceRoutes(this.core)];
  }

  async start(): Promise<void> {
    this.stopped = false;
    const { bus, jobs } = this.core;
    const runNow = () => void jobs.trigger(SWITCH_JOB, 'event');
    this.unsubscribe.push(
      bus.on('autoAttendant.switched', (e) => this.core.log.info('auto attendant switched', e.data)),
      bus.on('clock.changed', runNow),
      bus.on('autoAttendants.changed', runNow),
    );
    // Callers get the right action from the first call after start-up.
    await jobs.trigger(SWITCH_JOB, 'event');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.unsubscribe.splice(0)) off();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** One run: switch what is due, then arm the timer for the next boundary. Returns the job's result text. */
  private async switchAttendants(): Promise<Message[]> {
    const { switched, nextChange } = await this.core.autoAttendants.reconcile();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (nextChange && !this.stopped) {
      // Business hours follow the clock as set (wallClock), not the never-backwards trusted clock.
      const wait = Math.min(Math.max(nextChange.getTime() - this.core.wallClock.now().getTime(), 0), MAX_TIMEOUT_MS);
      this.timer = setTimeout(() => void this.core.jobs.trigger(SWITCH_JOB, 'event'), wait);
      this.timer.unref();
    }
    const done = switched.length ? switched.map((s) => say(s.state === 'open' ? 'aa.opened' : 'aa.closed', { name: s.name })) : [say('aa.unchanged')];
    return nextChange ? [...done, say('aa.next', { at: nextChange.toISOString() })] : done;
  }
}
