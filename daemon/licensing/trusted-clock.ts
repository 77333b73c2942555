import { performance } from 'node:perf_hooks';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomically } from './kept-file.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import { raiseMeta, readMeta } from '../store/meta.js';

const META_KEY = 'trusted_time';
const TRUSTED_TIME_FILE = 'trusted-time';

/** The newest modification time of the data folder's own files (one level, and the backups). */
function newestOwnFile(dataDir: string): number {
  let newest = 0;
  for (const dir of [dataDir, join(dataDir, 'backups'), join(dataDir, 'tls')]) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      try {
        const st = statSync(join(dir, n));
        if (st.isFile()) newest = Math.max(newest, st.mtimeMs);
      } catch {
        /* gone meanwhile */
      }
    }
  }
  return newest;
}

function readTimeFile(file: string): number {
  try {
    const ms = Date.parse(readFileSync(file, 'utf8').trim());
    return Number.isNaN(ms) ? 0 : ms;
  } catch {
    return 0;
  }
}

/**
 * The clock every expiry decision uses: never earlier than the latest time the
 * daemon has trusted. While the system clock runs normally it is the system
 * clock. When the system clock is set back, this clock keeps running from the
 * last trusted time on the monotonic clock (which nobody can set back), so
 * setting the clock back a month does not make a license last a month longer.
 * The trusted time is persisted (periodically and at stop) and is the floor
 * after a restart.
 *
 * It is kept twice: in the database and in a small file beside it (written
 * atomically), and the newest modification time of the appliance's own files
 * in the data folder is a floor as well. The latest of all wins, so restoring
 * an old backup (or copying an old data folder over) cannot move it back.
 */
export class TrustedClock implements Clock {
  /** The latest trusted time and the monotonic reading when it was taken. */
  private anchorMs: number;
  private anchorMono: number;

  private constructor(
    private readonly store: Store,
    readonly system: Clock,
    persistedMs: number,
    private readonly file: string | null,
  ) {
    this.anchorMs = Math.max(persistedMs, system.now().getTime());
    this.anchorMono = performance.now();
  }

  /** `dataDir`: where the file copy lives and whose files' times are a floor (null: the database only). */
  static async open(store: Store, system: Clock, dataDir: string | null = null): Promise<TrustedClock> {
    const kept = await readMeta(store, META_KEY);
    const inDb = kept ? Date.parse(kept) : NaN;
    const file = dataDir ? join(dataDir, TRUSTED_TIME_FILE) : null;
    const floor = Math.max(Number.isNaN(inDb) ? 0 : inDb, file ? readTimeFile(file) : 0, dataDir ? newestOwnFile(dataDir) : 0);
    return new TrustedClock(store, system, floor, file);
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
  private persisting: Promise<void> = Promise.resolve();

  /** One at a time (the job and the stop may overlap): two writers of the same temporary file could leave it empty. */
  persist(): Promise<void> {
    const run = this.persisting.then(() => this.persistNow());
    this.persisting = run.catch(() => undefined);
    return run;
  }

  private async persistNow(): Promise<void> {
    const at = this.now().toISOString();
    if (this.file && readTimeFile(this.file) < Date.parse(at)) writeAtomically(this.file, at + '\n');
    await this.store.write((tx) => raiseMeta(tx, META_KEY, at));
  }
}
