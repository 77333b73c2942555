import type { EventBus } from '../kernel/events.js';
import type { Logger } from '../kernel/log.js';
import { defineRefusals, entry, fixed, isRefusal, type Text } from '../kernel/refusal.js';
import { defineMessages, joined, type Message, type Values } from '../kernel/messages.js';

export const refuse = defineRefusals({
  JOB_NOT_FOUND: entry<{ name: string; known: string[] }>(404,
    (d) => ({ en: `There is no job "${d.name}".`, de: `Es gibt keinen Job "${d.name}".` }),
    (d) => ({ en: `Known jobs: ${d.known.join(', ')}.`, de: `Bekannte Jobs: ${d.known.join(', ')}.` })),
  JOB_DISABLED: entry<{ name: string }>(409,
    (d) => ({ en: `The job "${d.name}" is disabled.`, de: `Der Job "${d.name}" ist deaktiviert.` }),
    (d) => ({ en: `Enable it in the configuration (jobs.${d.name}.enabled: true) and reload pbxd.`, de: `Aktivieren Sie ihn in der Konfiguration (jobs.${d.name}.enabled: true) und laden Sie pbxd neu.` })),
  JOB_SCHEDULE_INVALID: entry<{ name: string; schedule: string }>(400,
    (d) => ({ en: `The schedule "${d.schedule}" of job "${d.name}" is not a valid cron expression.`, de: `Der Zeitplan "${d.schedule}" des Jobs "${d.name}" ist kein gültiger Cron-Ausdruck.` }),
    fixed({ en: 'Use five or six cron fields, e.g. "30 2 * * *" for 02:30 every day.', de: 'Verwenden Sie fünf oder sechs Cron-Felder, z. B. "30 2 * * *" für täglich 02:30.' })),
});

/** What the registry itself says of a run. */
const say = defineMessages({
  'job.running': { en: 'running', de: 'läuft' },
  'job.skipped': { en: 'skipped: still running', de: 'übersprungen: Der vorige Lauf läuft noch' },
  // An exception's message is the runtime's English: quoted in German.
  'job.failed': { en: 'failed: {error}', de: 'fehlgeschlagen: "{error}"' },
});

/** A refusal that ended a run: its own texts, which the catalogue of refusals already has in both languages. */
const refused = (code: string, text: Text): Message => ({ code: 'job.refused', values: { refusal: code }, text: { en: `${code}: ${text.en}`, de: `${code}: ${text.de}` } });

/** What a job does; its result says what happened ("nothing new", "released 3 devices"), as messages of the catalogue. */
interface JobSpec {
  name: string;
  /** cron expression (node-cron, system time zone) */
  schedule: string;
  enabled: boolean;
  run: () => Promise<Message | Message[]>;
  /** Event-triggered runs start at most this often; events in between join the next run. */
  eventSpacingMs?: number;
}

type Trigger = 'schedule' | 'manual' | 'event';

export interface JobInfo {
  name: string;
  schedule: string;
  enabled: boolean;
  running: boolean;
  nextRun: string | null;
  lastRun: LastRun | null;
}

/**
 * `said`: what the run said, as codes and values; `text`: that in English and German;
 * `result`: the English text, for logs and scripts.
 */
interface LastRun {
  startedAt: string;
  finishedAt: string | null;
  ok: boolean;
  result: string;
  text: Text;
  said: Array<{ code: string; values: Values }>;
  trigger: Trigger;
  ms: number;
}

function lastRun(messages: Message[], r: Omit<LastRun, 'result' | 'text' | 'said'>): LastRun {
  const text = joined(messages);
  return { ...r, result: text.en, text, said: messages.map((m) => ({ code: m.code, values: m.values })) };
}

interface JobState {
  spec: JobSpec;
  running: Promise<unknown> | null;
  /** Runs wait here in order, so two runs of one job never overlap. */
  tail: Promise<unknown>;
  /** An event-triggered run waiting to start: further events join it instead of queueing more. */
  queuedByEvent: Promise<void> | null;
  lastEventStart: number;
  lastRun: JobInfo['lastRun'];
}

/**
 * The registry of scheduled jobs: what exists, when it ran and with what
 * result. Knows nothing of cron: the scheduler (an adapter) triggers runs and
 * tells when the next one is due.
 */
export class JobRegistry {
  private readonly jobs = new Map<string, JobState>();
  private nextRunOf: (name: string) => Date | null = () => null;

  constructor(
    private readonly bus: EventBus,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  register(spec: JobSpec): void {
    if (this.jobs.has(spec.name)) throw new Error(`job ${spec.name} registered twice`);
    this.jobs.set(spec.name, { spec, running: null, tail: Promise.resolve(), queuedByEvent: null, lastEventStart: -Infinity, lastRun: null });
  }

  /** A new schedule or enabled flag (config reload); the scheduler re-arms after this. */
  configure(name: string, changes: Partial<Pick<JobSpec, 'schedule' | 'enabled'>>): void {
    const j = this.get(name);
    j.spec = { ...j.spec, ...changes };
  }

  specs(): JobSpec[] {
    return [...this.jobs.values()].map((j) => j.spec);
  }

  setNextRunSource(fn: (name: string) => Date | null): void {
    this.nextRunOf = fn;
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((j) => ({
      name: j.spec.name,
      schedule: j.spec.schedule,
      enabled: j.spec.enabled,
      running: j.running !== null,
      nextRun: j.spec.enabled ? (this.nextRunOf(j.spec.name)?.toISOString() ?? null) : null,
      lastRun: j.lastRun,
    }));
  }

  info(name: string): JobInfo {
    this.get(name);
    return this.list().find((j) => j.name === name)!;
  }

  private get(name: string): JobState {
    const j = this.jobs.get(name);
    if (!j) throw refuse('JOB_NOT_FOUND', { name, known: [...this.jobs.keys()] });
    return j;
  }

  /** Resolves when no run is in progress or queued (before the store closes). */
  async settle(): Promise<void> {
    await Promise.all([...this.jobs.values()].map((j) => j.tail));
  }

  /** Run on demand (API, CLI): waits for a run in progress, then runs once more. */
  async runNow(name: string): Promise<JobInfo> {
    const j = this.get(name);
    if (!j.spec.enabled) throw refuse('JOB_DISABLED', { name });
    await this.enqueue(j, 'manual');
    return this.info(name);
  }

  /**
   * A timer or event wants the job to run. A cron tick that finds the job still
   * running is skipped and recorded; an event-triggered run queues behind it, so
   * a change that arrives during a run is not lost.
   */
  trigger(name: string, trigger: Exclude<Trigger, 'manual'>): Promise<void> {
    const j = this.jobs.get(name);
    if (!j || !j.spec.enabled) return Promise.resolve();
    if (trigger === 'schedule' && j.running) {
      const at = this.now().toISOString();
      j.lastRun = lastRun([say('job.skipped')], { startedAt: at, finishedAt: at, ok: false, trigger, ms: 0 });
      this.log.warn('job skipped: the previous run is still running', { job: name });
      return Promise.resolve();
    }
    if (trigger === 'event') {
      // A burst of events (a phone storm changing devices) becomes one more run, not thousands,
      // and with eventSpacingMs not one run after another while the burst lasts.
      j.queuedByEvent ??= this.enqueue(j, trigger, async () => {
        const wait = j.lastEventStart + (j.spec.eventSpacingMs ?? 0) - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        j.queuedByEvent = null;
        j.lastEventStart = Date.now();
      });
      return j.queuedByEvent;
    }
    return this.enqueue(j, trigger);
  }

  private enqueue(j: JobState, trigger: Trigger, beforeStart?: () => Promise<void>): Promise<void> {
    const run = j.tail.then(async () => (await beforeStart?.(), this.execute(j, trigger)));
    j.tail = run.catch(() => undefined);
    return run;
  }

  private async execute(j: JobState, trigger: Trigger): Promise<void> {
    const started = Date.now();
    const startedAt = this.now().toISOString();
    const name = j.spec.name;
    let ok = true;
    let said: Message[];
    const running = j.spec.run();
    j.running = running;
    j.lastRun = lastRun([say('job.running')], { startedAt, finishedAt: null, ok: true, trigger, ms: 0 });
    try {
      said = [await running].flat();
    } catch (e) {
      ok = false;
      said = [isRefusal(e) ? refused(e.code, e.text) : say('job.failed', { error: (e as Error).message ?? String(e) })];
    } finally {
      j.running = null;
    }
    const ms = Date.now() - started;
    j.lastRun = lastRun(said, { startedAt, finishedAt: this.now().toISOString(), ok, trigger, ms });
    const result = j.lastRun.result;
    (ok ? this.log.debug : this.log.warn)('job finished', { job: name, ok, result, ms, trigger });
    this.bus.emit('job.finished', { name, ok, result, ms });
  }
}
