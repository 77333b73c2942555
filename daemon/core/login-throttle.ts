import { isIPv6 } from 'node:net';
import type { Logger } from '../kernel/log.js';

interface ThrottleOptions {
  /** Failures an address (or an account) may have before the delays begin. */
  freeFailures: number;
  /** The longest delay, however many failures follow. */
  maxDelaySeconds: number;
}

interface Failures {
  count: number;
  last: number;
  /** No attempt before this time (ms). */
  until: number;
}

/** Failures are forgotten this long after the last one. */
export const FORGET_MS = 15 * 60_000;
/** At most this many addresses are remembered; beyond it the oldest go first. */
export const MAX_ADDRESSES = 10_000;
/** Accounts are only remembered if they exist, so this bound is a safety net. */
const MAX_ACCOUNTS = 1_000;

/**
 * One key per source: an IPv4 address, or the /64 prefix of an IPv6 address
 * (one host gets a whole /64, so counting single v6 addresses counts nothing).
 */
export function sourceKey(address: string): string {
  const a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  if (!isIPv6(a)) return a;
  const [head = '', tail = ''] = a.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return groups.slice(0, 4).map((g) => parseInt(g || '0', 16).toString(16)).join(':') + '::/64';
}

/**
 * Failed logins per source address and per account, with exponential delays
 * (2 s, 4 s, 8 s, ... up to maxDelaySeconds) once the free failures are used.
 *
 * The account delay applies only to sources that have failed recently
 * themselves: a wrong password from anywhere never stops the right password
 * from an address with a clean record. Memory is bounded: failures expire,
 * at most MAX_ADDRESSES sources are kept (the oldest go first), accounts are
 * only counted when they exist, and nothing is recorded for a source that is
 * already waiting.
 */
export class LoginThrottle {
  private readonly sources = new Map<string, Failures>();
  private readonly accounts = new Map<string, Failures>();

  constructor(
    private readonly options: () => ThrottleOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds to wait before this source may try this account; 0: go ahead. Records nothing. */
  wait(address: string, account: string): number {
    const t = this.now();
    const source = this.current(this.sources, sourceKey(address), t);
    const acc = this.current(this.accounts, account, t);
    if (!source) return 0;
    if (source.until > t) return Math.ceil((source.until - t) / 1000);
    return acc && acc.until > t ? Math.ceil((acc.until - t) / 1000) : 0;
  }

  /** A wrong password; `account` only when that account exists. */
  failed(address: string, account: string | null): void {
    const t = this.now();
    this.bump(this.sources, sourceKey(address), t, MAX_ADDRESSES);
    if (account !== null) this.bump(this.accounts, account, t, MAX_ACCOUNTS);
  }

  /** The right password: this source's and this account's record start again. */
  succeeded(address: string, account: string): void {
    this.sources.delete(sourceKey(address));
    this.accounts.delete(account);
  }

  /** Entries held now (the metrics report them; they must stay bounded). */
  get size(): { sources: number; accounts: number } {
    return { sources: this.sources.size, accounts: this.accounts.size };
  }

  private current(map: Map<string, Failures>, key: string, t: number): Failures | null {
    const f = map.get(key);
    if (!f) return null;
    if (t - f.last > FORGET_MS && f.until <= t) {
      map.delete(key);
      return null;
    }
    return f;
  }

  private bump(map: Map<string, Failures>, key: string, t: number, max: number): void {
    const f = this.current(map, key, t) ?? { count: 0, last: t, until: 0 };
    f.count++;
    f.last = t;
    const { freeFailures, maxDelaySeconds } = this.options();
    // The failure that uses up the free ones starts the delays: 2 s, 4 s, 8 s, ...
    const beyond = f.count - freeFailures + 1;
    if (beyond > 0) f.until = t + Math.min(maxDelaySeconds, 2 ** Math.min(beyond, 30)) * 1000;
    // Re-inserted at the end: the map's order is the order of last failure, oldest first.
    map.delete(key);
    map.set(key, f);
    this.prune(map, t, max);
  }

  /** The map is ordered by last failure: expired records sit at the front, and beyond `max` the oldest go. */
  private prune(map: Map<string, Failures>, t: number, max: number): void {
    for (const [key, f] of map) {
      if (map.size <= max && (t - f.last <= FORGET_MS || f.until > t)) break;
      map.delete(key);
    }
  }
}

/**
 * Login outcomes for the log, at a bounded rate: every success, the first
 * few failures of each minute one by one, then one summary line per minute.
 */
export class LoginLog {
  static readonly DETAILED_PER_MINUTE = 10;
  private windowStart = 0;
  private detailed = 0;
  private suppressed = 0;
  private readonly sources = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  success(name: string, from: string): void {
    this.log.info('admin login', { name, ok: true, from });
  }

  failure(name: string, from: string, reason: 'password' | 'limited'): void {
    const t = this.now();
    if (t - this.windowStart >= 60_000) {
      this.flush();
      this.windowStart = t;
      this.detailed = 0;
    }
    if (this.detailed < LoginLog.DETAILED_PER_MINUTE) {
      this.detailed++;
      this.log.notice('admin login failed', { name, from, reason });
      return;
    }
    this.suppressed++;
    if (this.sources.size < 100) this.sources.add(sourceKey(from));
    this.timer ??= setTimeout(() => this.flush(), Math.max(0, this.windowStart + 60_000 - t)).unref();
  }

  /** The summary of the failures not logged one by one. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.suppressed === 0) return;
    this.log.notice('admin logins failed (summary)', { failures: this.suppressed, sources: this.sources.size >= 100 ? '100 or more' : this.sources.size, seconds: 60 });
    this.suppressed = 0;
    this.sources.clear();
  }

  /** At shutdown: the pending summary is written, no timer is left. */
  stop(): void {
    this.flush();
  }
}
