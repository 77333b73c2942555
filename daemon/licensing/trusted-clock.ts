import { performance } from 'node:perf_hooks';
import type { Store } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';

const META_KEY = 'trusted_time';

/**
 * The clock every expiry decision uses: never earlier than the latest time the
 * daemon has trusted. While the system clock runs normally it is the system
 * clock. When the system clock is set back, this clock keeps running from the
 * last trusted time on the monotonic clock (which nobody can set back), so
 * setting the clock back a month does not make a license last a month longer.
 * The trusted time is persisted (periodically and at stop) and is the floor
 * after a restart.
 */
export class TrustedClock implements Clock {
  /** The latest trusted time and the monotonic reading when it was taken. */
  private anchorMs: number;
  private anchorMono: number;

  private constructor(
    private readonly store: Store,
    readonly system: Clock,
    persistedMs: number,
  ) {
    this.anchorMs = Math.max(persistedMs, system.now().getTime());
    this.anchorMono = performance.now();
  }

  static async open(store: Store, system: Clock): Promise<TrustedClock> {
    const row = await store.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', [META_KEY]);
    const persisted = row ? Date.parse(row.value) : NaN;
    return new TrustedClock(store, system, Number.isNaN(persisted) ? 0 : persisted);
  }

  now(): Date {
    const sys = this.system.now().getTime();
    const mono = performance.now();
    const carried = this.anchorMs + (mono - this.anchorMono);
    if (sys >= carried) {
      this.anchorMs = sys;
      this.anchorMono = mono;
      return new Date(sys);
    }
    return new Date(carried);
  }

  /** How far the system clock is behind the trusted time (0 when it is not). */
  behindMs(): number {
    return Math.max(0, this.now().getTime() - this.system.now().getTime());
  }

  /** Store the trusted time, so a restart with the clock set back still knows it. */
  async persist(): Promise<void> {
    const at = this.now().toISOString();
    await this.store.write(async (tx) => {
      await tx.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE excluded.value > meta.value', [META_KEY, at]);
    });
  }
}
