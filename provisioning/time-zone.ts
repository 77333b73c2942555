/**
 * A zone's offset and daylight-saving rule, from its IANA name through Intl
 * (the runtime's time zone database), for any zone: each vendor writes it in
 * its own notation. The rule is read off the transitions of the given year.
 */

/** One change of the clock, as the vendors' rules state it. */
export interface Transition {
  month: number; // 1–12
  /** 1–4: the n-th weekday of the month; 5: the last one. */
  week: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  day: number; // day of the month in the year it was read from
  /** Local wall-clock minutes after midnight at which the change happens (before it). */
  minutes: number;
}

export interface ZoneRule {
  name: string;
  /** Standard (winter) offset from UTC in minutes, east positive. */
  offset: number;
  /** null: no daylight saving in this zone. */
  dst: { save: number; start: Transition; end: Transition } | null;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) formats.set(zone, (f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })));
  return f;
}

/** The zone's offset from UTC in minutes at instant `t` (ms). */
export function offsetAt(zone: string, t: number): number {
  const name = formatFor(zone).formatToParts(t).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /^GMT([+-])(\d{2}):?(\d{2})?$/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) : 0;
}

/** Whether `zone` is a time zone the runtime knows. */
export function isKnownZone(zone: string): boolean {
  try {
    formatFor(zone);
    return true;
  } catch {
    return false;
  }
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** The first minute in (lo, hi] at which the offset differs from the one at lo. */
function changeBetween(zone: string, lo: number, hi: number): number {
  const before = offsetAt(zone, lo);
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
    if (offsetAt(zone, mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

function transition(at: number, localOffset: number): Transition {
  const local = new Date(at + localOffset * MINUTE);
  const day = local.getUTCDate();
  const daysInMonth = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth() + 1, 0)).getUTCDate();
  return {
    month: local.getUTCMonth() + 1,
    week: day + 7 > daysInMonth ? 5 : Math.ceil(day / 7),
    weekday: local.getUTCDay(),
    day,
    minutes: local.getUTCHours() * 60 + local.getUTCMinutes(),
  };
}

const rules = new Map<string, ZoneRule>();

/** The zone's rule as in force in `year` (throws RangeError for an unknown zone). */
export function zoneRule(zone: string, year = new Date().getUTCFullYear()): ZoneRule {
  const key = `${zone}\0${year}`;
  const known = rules.get(key);
  if (known) return known;
  const t0 = Date.UTC(year, 0, 1);
  const changes: Array<{ at: number; from: number; to: number }> = [];
  let prev = offsetAt(zone, t0);
  for (let t = t0 + DAY; t <= Date.UTC(year + 1, 0, 1); t += DAY) {
    const o = offsetAt(zone, t);
    if (o !== prev) {
      changes.push({ at: changeBetween(zone, t - DAY, t), from: prev, to: o });
      prev = o;
    }
  }
  let rule: ZoneRule;
  const up = changes.find((c) => c.to > c.from);
  const down = changes.find((c) => c.to < c.from);
  if (up && down && changes.length === 2) {
    // Daylight saving: the change forward happens in standard time, the change back in daylight time.
    rule = { name: zone, offset: up.from, dst: { save: up.to - up.from, start: transition(up.at, up.from), end: transition(down.at, down.from) } };
  } else rule = { name: zone, offset: prev, dst: null }; // none, or the zone moved for good this year: its offset now
  rules.set(key, rule);
  return rule;
}

/** Whether daylight saving is in force in `zone` at `t`. */
export function inDaylightTime(rule: ZoneRule, t = Date.now()): boolean {
  return rule.dst !== null && offsetAt(rule.name, t) !== rule.offset;
}

/** "+01:00" style, for an offset in minutes. */
export function hhmm(minutes: number): string {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** Hours as the vendors' text fields take them: "1", "-5", "5.5". */
export const hours = (minutes: number): string => String(minutes / 60);

/** Monday = 1 … Sunday = 7, as the vendors' daylight-saving rules count weekdays. */
export const isoWeekday = (t: Transition): number => (t.weekday === 0 ? 7 : t.weekday);
