import { DAY_MS } from '../kernel/clock.js';

// Business hours, the pure part: which state a schedule is in at an instant, and when it next changes.

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
/** Indexed like Date#getUTCDay(). */
export const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Open from `from` (inclusive) to `to` (exclusive), local wall-clock "HH:MM"; `to` may be "24:00". */
export interface OpenHours {
  from: string;
  to: string;
}

export interface Schedule {
  /** IANA time zone the hours are meant in, e.g. "Europe/Berlin". */
  timeZone: string;
  weekly: Partial<Record<Weekday, OpenHours[]>>;
  /** Local dates (YYYY-MM-DD) closed all day. */
  holidays: Array<{ date: string; name?: string }>;
}

export type AttendantState = 'open' | 'closed';

export interface Evaluation {
  state: AttendantState;
  /** When the schedule last switched into `state` (absent when it never did within a year and a bit). */
  since?: Date;
  /** When it switches next; null when it never does (always open, never open) within a year and a bit. */
  nextChange: Date | null;
}

/** How far evaluate() looks for a change in either direction. */
const HORIZON_DAYS = 400;

const formatters = new Map<string, Intl.DateTimeFormat>();
export function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The local wall-clock time of an instant, as milliseconds "as if it were UTC" (seconds precision). */
function wallClock(timeZone: string, ms: number): number {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour! % 24, p.minute!, p.second!);
}

/** Local time minus UTC at an instant (ms), e.g. +3600000 for CET. */
function offsetAt(timeZone: string, ms: number): number {
  const s = Math.floor(ms / 1000) * 1000;
  return wallClock(timeZone, s) - s;
}

export const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
export const isoDate = (wallMs: number) => new Date(wallMs).toISOString().slice(0, 10);

/** Open or closed at an instant: a pure function of the local date and time. */
export function stateAt(schedule: Schedule, at: Date | number): AttendantState {
  const wall = wallClock(schedule.timeZone, typeof at === 'number' ? at : at.getTime());
  const day = new Date(wall);
  if (schedule.holidays.some((h) => h.date === isoDate(wall))) return 'closed';
  const secondOfDay = day.getUTCHours() * 3600 + day.getUTCMinutes() * 60 + day.getUTCSeconds();
  const hours = schedule.weekly[WEEKDAYS[day.getUTCDay()]!] ?? [];
  return hours.some((h) => minutesOf(h.from) * 60 <= secondOfDay && secondOfDay < minutesOf(h.to) * 60) ? 'open' : 'closed';
}

/**
 * Every instant in [start, end) at which the state may change: each local day's
 * midnight and the ends of its open hours, converted to UTC (a wall time that
 * occurs twice when clocks go back yields both instants; one that does not exist
 * when clocks go forward yields none), plus the daylight-saving transition itself
 * (where local time jumps past or back over a boundary). Between two candidates
 * the local state cannot change. Assumes at most one offset change per window.
 */
function candidates(schedule: Schedule, start: number, end: number): number[] {
  const tz = schedule.timeZone;
  const out = new Set<number>();
  const firstDay = Math.floor((start + offsetAt(tz, start)) / DAY_MS) - 1;
  const lastDay = Math.floor((end + offsetAt(tz, end)) / DAY_MS) + 1;
  for (let d = firstDay; d <= lastDay; d++) {
    const midnight = d * DAY_MS;
    const hours = schedule.weekly[WEEKDAYS[new Date(midnight).getUTCDay()]!] ?? [];
    const minutes = new Set([0, ...hours.flatMap((h) => [minutesOf(h.from), minutesOf(h.to)])]);
    for (const m of minutes) {
      const wall = midnight + m * 60_000;
      for (const offset of new Set([offsetAt(tz, wall - DAY_MS), offsetAt(tz, wall + DAY_MS)])) {
        const t = wall - offset;
        if (t >= start && t < end && offsetAt(tz, t) === offset) out.add(t);
      }
    }
  }
  // The offset change inside the window, found to the second by bisection.
  const before = offsetAt(tz, start);
  if (offsetAt(tz, end - 1000) !== before) {
    let lo = Math.floor(start / 1000);
    let hi = Math.floor((end - 1000) / 1000);
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetAt(tz, mid * 1000) === before) lo = mid;
      else hi = mid;
    }
    out.add(hi * 1000);
  }
  return [...out].sort((a, b) => a - b);
}

/** Never open, or open round the clock without holidays: nothing to search for. */
function neverChanges(schedule: Schedule): boolean {
  const days = WEEKDAYS.map((w) => schedule.weekly[w] ?? []);
  return days.every((d) => d.length === 0) || (schedule.holidays.length === 0 && days.every(coversWholeDay));
}

function coversWholeDay(hours: OpenHours[]): boolean {
  let reached = 0;
  for (const h of [...hours].sort((a, b) => minutesOf(a.from) - minutesOf(b.from))) {
    if (minutesOf(h.from) > reached) return false;
    reached = Math.max(reached, minutesOf(h.to));
  }
  return reached >= 24 * 60;
}

/**
 * The first instant after `at` (direction 1) or the last at or before `at`
 * (direction -1) where the state changes; null when there is none within the horizon.
 */
export function findChange(schedule: Schedule, at: Date, direction: 1 | -1): Date | null {
  if (direction === -1) return search(schedule, at, -1);
  // Memoized: the next change found from t0 is also the next change from any
  // instant before it, so the scheduler's once-a-minute pass costs a lookup,
  // not a search (a round-the-clock schedule with one holiday searches months).
  const key = JSON.stringify(schedule);
  const t = at.getTime();
  const hit = nextChanges.get(key);
  if (hit && hit.from <= t && t < hit.until) return hit.next && new Date(hit.next);
  const next = search(schedule, at, 1);
  if (nextChanges.size >= 1000) nextChanges.clear();
  nextChanges.set(key, { from: t, until: next ? next.getTime() : t + DAY_MS, next: next && new Date(next) });
  return next;
}

const nextChanges = new Map<string, { from: number; until: number; next: Date | null }>();

function search(schedule: Schedule, at: Date, direction: 1 | -1): Date | null {
  const t0 = at.getTime();
  const state = stateAt(schedule, t0);
  if (neverChanges(schedule)) return null;
  const base = Math.floor(t0 / 1000) * 1000;
  for (let k = 0; k < HORIZON_DAYS; k++) {
    if (direction === 1) {
      for (const c of candidates(schedule, base + k * DAY_MS, base + (k + 1) * DAY_MS)) if (c > t0 && stateAt(schedule, c) !== state) return new Date(c);
    } else {
      for (const c of candidates(schedule, base + 1000 - (k + 1) * DAY_MS, base + 1000 - k * DAY_MS).reverse()) if (c <= t0 && stateAt(schedule, c - 1) !== state) return new Date(c);
    }
  }
  return null;
}

/**
 * Open or closed at `at`, since when, and when it changes next. Pure: the same
 * schedule and instant always give the same answer; only Intl.DateTimeFormat
 * (the IANA time zone data of the runtime) is consulted, so daylight-saving
 * changes are handled by the zone rules, not by arithmetic here.
 */
export function evaluate(schedule: Schedule, at: Date): Evaluation {
  const since = findChange(schedule, at, -1);
  return { state: stateAt(schedule, at), ...(since ? { since } : {}), nextChange: findChange(schedule, at, 1) };
}
