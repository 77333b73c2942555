import cron, { type ScheduledTask } from 'node-cron';
import type { Core } from './core/core.js';
import type { Feature } from './feature.js';
import { resourceRoutes } from './http/routes/resources.js';

/** setTimeout cannot wait longer than this (about 24.8 days); a longer wait is re-armed. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Auto attendants and SIP trunks as one start/stop unit: their admin routes,
 * and the switching of attendants between open and closed.
 *
 * Switching uses two timers on purpose. A setTimeout armed for the earliest
 * `nextChange` switches at the exact boundary (node-cron fires only on whole
 * minutes of the real clock, and knows nothing of the development clock). A
 * node-cron job once a minute re-evaluates everything as a safety net: a timer
 * that fired early or late, a suspended VM, a system clock set by NTP. A start,
 * a moved development clock (`clock.changed`) and every edit re-evaluate at once.
 */
export class ResourcesFeature implements Feature {
  readonly name = 'resources';
  private timer: NodeJS.Timeout | null = null;
  private safetyNet: ScheduledTask | null = null;
  private unsubscribe: Array<() => void> = [];
  private running: Promise<void> | null = null;
  private rerun = false;
  private stopped = false;

  constructor(private readonly core: Core) {}

  routes() {
    return resourceRoutes(this.core);
  }

  async start(): Promise<void> {
    this.stopped = false;
    const { bus } = this.core;
    this.unsubscribe.push(
      bus.on('autoattendant.switched', (e) => this.core.log.info('auto attendant switched', e.data)),
      bus.on('clock.changed', () => this.kick()),
      bus.on('autoAttendants.changed', () => this.kick()),
    );
    await this.reevaluate();
    const log = this.core.log.child({ component: 'node-cron' });
    this.safetyNet = cron.schedule('* * * * *', () => this.kick(), {
      name: 'auto-attendant-safety-net',
      noOverlap: true,
      // node-cron's own messages (e.g. a missed run after a blocked event loop) as journald lines, not bare console output.
      logger: { info: (m) => log.debug(m), warn: (m) => log.warn(m), error: (m) => log.error(String(m)), debug: (m) => log.debug(String(m)) },
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.unsubscribe.splice(0)) off();
    if (this.timer) clearTimeout(this.timer);
    await this.safetyNet?.destroy();
    this.safetyNet = null;
    await this.running;
  }

  /** Re-evaluate now; calls arriving while one runs are folded into one more run. */
  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = this.reevaluate()
      .catch((e) => this.core.log.error('auto attendant switching failed; retrying within a minute', { error: String(e) }))
      .finally(() => {
        this.running = null;
        if (this.rerun) {
          this.rerun = false;
          this.kick();
        }
      });
  }

  private async reevaluate(): Promise<void> {
    const { nextChange } = await this.core.autoAttendants.reconcile();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!nextChange || this.stopped) return;
    const wait = Math.min(Math.max(nextChange.getTime() - this.core.clock.now().getTime(), 0), MAX_TIMEOUT_MS);
    this.timer = setTimeout(() => this.kick(), wait);
    this.timer.unref();
  }
}
