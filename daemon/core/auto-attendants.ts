import type { Store, Tx } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import type { EventBus } from '../kernel/events.js';
import type { AuditLog } from './audit.js';
import type { Holder, Licensing } from '../licensing/licensing.js';
import { defineRefusals, entry, fixed, germanPhrase, refuse as refuseCore } from '../kernel/refusal.js';
import { evaluate, findChange, formatter, isoDate, minutesOf, stateAt, WEEKDAYS, type AttendantState, type Schedule, type Weekday } from './schedule.js';

// The routes preview a schedule with the same maths the service runs.
export { evaluate } from './schedule.js';

// ───────────────────────── what callers hear ─────────────────────────

/** In or out of hours: play a greeting and offer key options, or forward the call. */
type CallAction =
  | { kind: 'greeting'; greeting: string; options: Array<{ key: string; target: string }> }
  | { kind: 'forward'; target: string };

interface AutoAttendantInput {
  name: string;
  numbers: string[];
  schedule: Schedule;
  inHours: CallAction;
  outOfHours: CallAction;
}

export interface AutoAttendantView extends AutoAttendantInput {
  /** What callers get now (as last switched by the scheduler). */
  state: AttendantState;
  since: string;
  nextChange: string | null;
  createdAt: string;
  updatedAt: string;
}

export const refuse = defineRefusals({
  AA_LIMIT_REACHED: entry<{ used: number; total: number }>(409,
    (d) => ({ en: `${d.used} of ${d.total} auto attendants in use.`, de: `${d.used} von ${d.total} automatischen Vermittlungen in Verwendung.` }),
    fixed({ en: 'Delete an auto attendant you no longer need, or license more auto attendants.', de: 'Löschen Sie eine nicht mehr benötigte automatische Vermittlung oder lizenzieren Sie weitere.' })),
  AA_SCHEDULE_INVALID: entry<{ field: string; problem: string }>(400,
    (d) => ({ en: `The business hours are invalid (${d.field}: ${d.problem}).`, de: `Die Geschäftszeiten sind ungültig (Feld "${d.field}"${germanPhrase(d.problem) ? `: ${germanPhrase(d.problem)}` : ''}).` }),
    fixed({ en: 'Give a time zone such as Europe/Berlin, hours as HH:MM–HH:MM with the start before the end, and holidays as YYYY-MM-DD.', de: 'Geben Sie eine Zeitzone wie Europe/Berlin an, Zeiten als HH:MM–HH:MM mit Beginn vor Ende und Feiertage als JJJJ-MM-TT.' })),
  AA_NUMBER_TAKEN: entry<{ number: string; attendant: string }>(409,
    (d) => ({ en: `The number ${d.number} already reaches the auto attendant "${d.attendant}".`, de: `Die Rufnummer ${d.number} führt bereits zur automatischen Vermittlung "${d.attendant}".` }),
    fixed({ en: 'Remove the number from the other auto attendant first, or choose another number.', de: 'Entfernen Sie die Rufnummer zuerst aus der anderen Vermittlung oder wählen Sie eine andere.' })),
});

const invalid = (field: string, problem: string) => refuse('AA_SCHEDULE_INVALID', { field, problem });
const badField = (field: string, problem: string) => refuseCore('REQ_INVALID', { field, problem });

/** Names of attendants and trunks: they appear in URLs, plans and logs. */
const RESOURCE_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$/u;
const PHONE_NUMBER = /^\+?[0-9]{2,20}$/;
const HHMM = /^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const KEY = /^[0-9*#]$/;
const TARGET = /^[\p{L}\p{N}+*#@._ -]{1,64}$/u;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseName(v: unknown, field = 'name'): string {
  if (typeof v !== 'string' || !RESOURCE_NAME.test(v)) throw badField(field, 'letters, digits, space, . _ - (1–64 characters, starting with a letter or digit)');
  return v;
}

export function parseSchedule(raw: unknown): Schedule {
  if (!isObject(raw)) throw invalid('schedule', 'must be an object {timeZone, weekly, holidays}');
  const timeZone = raw.timeZone;
  if (typeof timeZone !== 'string' || timeZone.length > 64) throw invalid('timeZone', 'is required (an IANA name such as Europe/Berlin)');
  try {
    formatter(timeZone);
  } catch {
    throw invalid('timeZone', `"${timeZone}" is not a known time zone`);
  }
  const weekly: Schedule['weekly'] = {};
  if (raw.weekly !== undefined && !isObject(raw.weekly)) throw invalid('weekly', 'must map weekdays (mon…sun) to lists of {from, to}');
  for (const [day, hours] of Object.entries((raw.weekly as Record<string, unknown>) ?? {})) {
    if (!WEEKDAYS.includes(day as Weekday)) throw invalid(`weekly.${day}`, 'is not a weekday (mon, tue, wed, thu, fri, sat, sun)');
    if (!Array.isArray(hours) || hours.length > 12) throw invalid(`weekly.${day}`, 'must be a list of at most 12 {from, to}');
    weekly[day as Weekday] = hours.map((h, i) => {
      const f = `weekly.${day}[${i}]`;
      if (!isObject(h) || typeof h.from !== 'string' || typeof h.to !== 'string' || !HHMM.test(h.from) || !HHMM.test(h.to)) throw invalid(f, 'needs from and to as HH:MM (to may be 24:00)');
      if (minutesOf(h.from) >= minutesOf(h.to)) throw invalid(f, `opens at ${h.from} but closes at ${h.to}; split hours across midnight into two days`);
      return { from: h.from, to: h.to };
    });
  }
  if (raw.holidays !== undefined && (!Array.isArray(raw.holidays) || raw.holidays.length > 366)) throw invalid('holidays', 'must be a list of at most 366 dates');
  const holidays = ((raw.holidays as unknown[]) ?? []).map((h, i) => {
    const o = typeof h === 'string' ? { date: h } : h;
    if (!isObject(o) || typeof o.date !== 'string' || !DATE.test(o.date) || isoDate(Date.parse(o.date + 'T00:00:00Z') || 0) !== o.date) throw invalid(`holidays[${i}]`, 'needs a date YYYY-MM-DD');
    if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length > 100)) throw invalid(`holidays[${i}].name`, 'at most 100 characters');
    return o.name ? { date: o.date, name: o.name as string } : { date: o.date };
  });
  return { timeZone, weekly, holidays };
}

function parseAction(raw: unknown, field: string): CallAction {
  if (!isObject(raw)) throw badField(field, 'must be {kind: "greeting", greeting, options} or {kind: "forward", target}');
  if (raw.kind === 'forward') {
    if (typeof raw.target !== 'string' || !TARGET.test(raw.target)) throw badField(`${field}.target`, 'a number, extension or user (1–64 characters)');
    return { kind: 'forward', target: raw.target };
  }
  if (raw.kind !== 'greeting') throw badField(`${field}.kind`, 'must be "greeting" or "forward"');
  if (typeof raw.greeting !== 'string' || raw.greeting.trim() === '' || raw.greeting.length > 500) throw badField(`${field}.greeting`, 'the prompt to play (1–500 characters)');
  const options = raw.options ?? [];
  if (!Array.isArray(options) || options.length > 12) throw badField(`${field}.options`, 'a list of at most 12 {key, target}');
  const keys = new Set<string>();
  return {
    kind: 'greeting',
    greeting: raw.greeting,
    options: options.map((o, i) => {
      if (!isObject(o) || typeof o.key !== 'string' || !KEY.test(o.key)) throw badField(`${field}.options[${i}].key`, 'one of 0–9, * or #');
      if (keys.has(o.key)) throw badField(`${field}.options[${i}].key`, `key ${o.key} is used twice`);
      keys.add(o.key);
      if (typeof o.target !== 'string' || !TARGET.test(o.target)) throw badField(`${field}.options[${i}].target`, 'a number, extension or user (1–64 characters)');
      return { key: o.key, target: o.target };
    }),
  };
}

function parseNumbers(raw: unknown): string[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > 20) throw badField('numbers', 'a list of 1–20 phone numbers');
  const numbers = raw.map((n, i) => {
    if (typeof n !== 'string' || !PHONE_NUMBER.test(n.replace(/[\s/-]/g, ''))) throw badField(`numbers[${i}]`, 'a phone number such as +4953112345 or 200');
    return n.replace(/[\s/-]/g, '');
  });
  if (new Set(numbers).size !== numbers.length) throw badField('numbers', 'a number is listed twice');
  return numbers;
}

/** A whole attendant from a request body (create), or the changed fields merged over `base` (edit). */
export function parseAttendant(raw: Record<string, unknown>, base?: AutoAttendantInput): AutoAttendantInput {
  const has = (k: string) => raw[k] !== undefined;
  const need = (k: string) => {
    if (!base && !has(k)) throw badField(k, 'is required');
  };
  for (const k of ['name', 'numbers', 'schedule', 'inHours', 'outOfHours']) need(k);
  return {
    name: has('name') ? parseName(raw.name) : base!.name,
    numbers: has('numbers') ? parseNumbers(raw.numbers) : base!.numbers,
    schedule: has('schedule') ? parseSchedule(raw.schedule) : base!.schedule,
    inHours: has('inHours') ? parseAction(raw.inHours, 'inHours') : base!.inHours,
    outOfHours: has('outOfHours') ? parseAction(raw.outOfHours, 'outOfHours') : base!.outOfHours,
  };
}

// ───────────────────────── the service ─────────────────────────

interface AttendantRow {
  id: number;
  name: string;
  schedule: string;
  in_hours: string;
  out_of_hours: string;
  state: AttendantState;
  state_since: string;
  created_at: string;
  updated_at: string;
  numbers: string | null;
}

const SELECT_ATTENDANTS = `
  SELECT a.*, (SELECT json_group_array(number) FROM (SELECT number FROM auto_attendant_numbers WHERE attendant_id = a.id ORDER BY position)) AS numbers
  FROM auto_attendants a`;

interface Switch {
  name: string;
  state: AttendantState;
  at: string;
}

/**
 * Auto attendants: each takes one `autoattendants` license; its business hours
 * decide whether callers get the in-hours or the out-of-hours action. Knows
 * nothing of timers: the scheduler calls `reconcile()` at the right moments.
 */
export class AutoAttendants {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly audit: AuditLog,
    private readonly licensing: Licensing,
  ) {
    licensing.addUsageProvider(async (q) => ({ autoattendants: (await q.get<{ n: number }>('SELECT COUNT(*) AS n FROM auto_attendants'))!.n }));
    licensing.addHolderSource({
      codes: (code) => code === 'autoattendants',
      // Resources have no "last active"; the newest attendant is listed (and proposed for removal) first.
      holders: async (q, _code, limit) =>
        (await q.all<{ name: string }>(`SELECT name FROM auto_attendants ORDER BY created_at DESC, id DESC LIMIT ${Math.floor(limit)}`)).map(
          (r): Holder => ({ kind: 'autoattendant', id: r.name, name: r.name, lastActive: null }),
        ),
      // Releasing an attendant's license deletes the attendant: it cannot exist without one.
      release: async (tx, holder, _code, by) => {
        if (holder.kind !== 'autoattendant' || !(await this.deleteIn(tx, holder.id, by, { reason: 'license plan' })))
          throw refuseCore('LIC_PLAN_INVALID', { problem: `there is no auto attendant "${holder.id}"` });
      },
    });
  }

  private view(r: AttendantRow, now: Date): AutoAttendantView {
    const schedule = JSON.parse(r.schedule) as Schedule;
    return {
      name: r.name,
      numbers: JSON.parse(r.numbers ?? '[]'),
      schedule,
      inHours: JSON.parse(r.in_hours),
      outOfHours: JSON.parse(r.out_of_hours),
      state: r.state,
      since: r.state_since,
      nextChange: findChange(schedule, now, 1)?.toISOString() ?? null,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  async list(): Promise<{ used: number; total: number; autoAttendants: AutoAttendantView[] }> {
    const now = this.clock.now();
    const rows = await this.store.all<AttendantRow>(`${SELECT_ATTENDANTS} ORDER BY a.name`);
    return { used: rows.length, total: this.total(), autoAttendants: rows.map((r) => this.view(r, now)) };
  }

  async get(name: string): Promise<AutoAttendantView> {
    const row = await this.store.get<AttendantRow>(`${SELECT_ATTENDANTS} WHERE a.name = ?`, [name]);
    if (!row) throw notFound(name);
    return this.view(row, this.clock.now());
  }

  private total(): number {
    return this.licensing.quotas().quantities.autoattendants ?? 0;
  }

  /** Takes one license; the count is checked in the same write that inserts. */
  async create(input: AutoAttendantInput, by: string): Promise<AutoAttendantView> {
    const now = this.clock.now();
    await this.store.write(async (tx) => {
      const used = (await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM auto_attendants'))!.n;
      const total = this.total();
      if (used >= total) throw refuse('AA_LIMIT_REACHED', { used, total });
      if (await tx.get('SELECT 1 FROM auto_attendants WHERE name = ?', [input.name])) throw refuseCore('REQ_CONFLICT', { what: `Auto attendant "${input.name}"` });
      const ev = evaluate(input.schedule, now);
      const r = await tx.run(
        'INSERT INTO auto_attendants (name, schedule, in_hours, out_of_hours, state, state_since, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [input.name, JSON.stringify(input.schedule), JSON.stringify(input.inHours), JSON.stringify(input.outOfHours), ev.state, (ev.since ?? now).toISOString(), now.toISOString(), now.toISOString()],
      );
      await this.setNumbers(tx, r.lastID, input.numbers);
      await this.audit.append(tx, by, 'autoattendant.create', input.name, { numbers: input.numbers, timeZone: input.schedule.timeZone, state: ev.state, licenses: `${used + 1}/${total}` });
      tx.afterCommit(() => this.bus.emit('autoAttendants.changed', { action: 'created', name: input.name, by }));
    });
    return this.get(input.name);
  }

  /** Edit: needs no license; a changed schedule may switch the state at once. */
  async update(name: string, patch: Record<string, unknown>, by: string): Promise<AutoAttendantView> {
    const now = this.clock.now();
    const newName = await this.store.write(async (tx) => {
      const row = await tx.get<AttendantRow>(`${SELECT_ATTENDANTS} WHERE a.name = ?`, [name]);
      if (!row) throw notFound(name);
      const before = this.view(row, now);
      const next = parseAttendant(patch, before);
      if (next.name.toLowerCase() !== row.name.toLowerCase() && (await tx.get('SELECT 1 FROM auto_attendants WHERE name = ?', [next.name])))
        throw refuseCore('REQ_CONFLICT', { what: `Auto attendant "${next.name}"` });
      const ev = evaluate(next.schedule, now);
      await tx.run('UPDATE auto_attendants SET name = ?, schedule = ?, in_hours = ?, out_of_hours = ?, updated_at = ? WHERE id = ?', [
        next.name, JSON.stringify(next.schedule), JSON.stringify(next.inHours), JSON.stringify(next.outOfHours), now.toISOString(), row.id,
      ]);
      await this.setNumbers(tx, row.id, next.numbers);
      const changed = (Object.keys(next) as Array<keyof AutoAttendantInput>).filter((k) => JSON.stringify(next[k]) !== JSON.stringify(before[k]));
      await this.audit.append(tx, by, 'autoattendant.update', row.name, { changed, ...(next.name !== row.name ? { renamedTo: next.name } : {}) });
      if (ev.state !== row.state) await this.switchIn(tx, row.id, next.name, ev.state, (ev.since ?? now).toISOString(), by);
      tx.afterCommit(() => this.bus.emit('autoAttendants.changed', { action: 'updated', name: next.name, by }));
      return next.name;
    });
    return this.get(newName);
  }

  async remove(name: string, by: string): Promise<void> {
    await this.store.write(async (tx) => {
      if (!(await this.deleteIn(tx, name, by))) throw notFound(name);
    });
  }

  private async deleteIn(tx: Tx, name: string, by: string, details: Record<string, unknown> = {}): Promise<boolean> {
    const row = await tx.get<{ id: number; name: string }>('SELECT id, name FROM auto_attendants WHERE name = ?', [name]);
    if (!row) return false;
    await tx.run('DELETE FROM auto_attendants WHERE id = ?', [row.id]);
    await this.audit.append(tx, by, 'autoattendant.delete', row.name, details);
    tx.afterCommit(() => this.bus.emit('autoAttendants.changed', { action: 'deleted', name: row.name, by }));
    return true;
  }

  private async setNumbers(tx: Tx, id: number, numbers: string[]): Promise<void> {
    for (const n of numbers) {
      const taken = await tx.get<{ name: string }>('SELECT a.name FROM auto_attendant_numbers n JOIN auto_attendants a ON a.id = n.attendant_id WHERE n.number = ? AND n.attendant_id <> ?', [n, id]);
      if (taken) throw refuse('AA_NUMBER_TAKEN', { number: n, attendant: taken.name });
    }
    await tx.run('DELETE FROM auto_attendant_numbers WHERE attendant_id = ?', [id]);
    for (const [i, n] of numbers.entries()) await tx.run('INSERT INTO auto_attendant_numbers (number, attendant_id, position) VALUES (?, ?, ?)', [n, id, i]);
  }

  private async switchIn(tx: Tx, id: number, name: string, state: AttendantState, at: string, by: string): Promise<void> {
    await tx.run('UPDATE auto_attendants SET state = ?, state_since = ? WHERE id = ?', [state, at, id]);
    await this.audit.append(tx, by, 'autoattendant.switch', name, { state, at });
    tx.afterCommit(() => this.bus.emit('autoAttendant.switched', { name, state, at }));
  }

  /**
   * Bring every attendant's stored state in line with its schedule at `now`
   * (one write: switches, their audit rows and events). Returns what switched
   * and the earliest next change of any attendant, for the scheduler's timer.
   */
  async reconcile(now = this.clock.now(), by = 'scheduler'): Promise<{ switched: Switch[]; nextChange: Date | null }> {
    return this.store.write(async (tx) => {
      const rows = await tx.all<Pick<AttendantRow, 'id' | 'name' | 'schedule' | 'state'>>('SELECT id, name, schedule, state FROM auto_attendants');
      const switched: Switch[] = [];
      let nextChange: Date | null = null;
      for (const r of rows) {
        const schedule = JSON.parse(r.schedule) as Schedule;
        const next = findChange(schedule, now, 1);
        if (next && (!nextChange || next < nextChange)) nextChange = next;
        const state = stateAt(schedule, now);
        if (state === r.state) continue;
        // The switch is dated at the boundary it belongs to (after a restart or a clock move, in the past).
        const at = (findChange(schedule, now, -1) ?? now).toISOString();
        await this.switchIn(tx, r.id, r.name, state, at, by);
        switched.push({ name: r.name, state, at });
      }
      return { switched, nextChange };
    });
  }
}

function notFound(name: string) {
  return refuseCore('REQ_NOT_FOUND', { what: `Auto attendant "${name}"` });
}
