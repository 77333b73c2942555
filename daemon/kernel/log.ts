/**
 * Structured log lines for journald: `<N>` syslog priority prefix (journald maps
 * it to the entry's priority), a message, then key=value fields. Fields whose
 * name marks them as secret are redacted here, at the one place lines are made.
 */
export const LEVELS = { error: 3, warn: 4, notice: 5, info: 6, debug: 7 } as const;
export type LogLevel = keyof typeof LEVELS;

const SECRET_KEY = /pass(word)?|secret|token|signature|authorization|cookie|credential|csrf|privatekey/i;

type Fields = Record<string, unknown>;

function formatValue(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v !== null && typeof v === 'object' && !(v instanceof Error)) return JSON.stringify(v);
  const s = typeof v === 'string' ? v : v instanceof Error ? v.message : String(v);
  return /^[\w.:/@+-]*$/.test(s) && s !== '' ? s : JSON.stringify(s);
}

/** Fields named like secrets, at any depth. */
function redact(fields: Fields): Fields {
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > 8 || v === null || typeof v !== 'object' || v instanceof Error) return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    const out: Fields = {};
    for (const [k, x] of Object.entries(v)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : walk(x, depth + 1);
    return out;
  };
  return walk(fields, 0) as Fields;
}

/**
 * Secrets that slip into values (an error message quoting a request, a stack
 * trace): PEM blocks such as a license's signature, bearer credentials, and
 * random tokens (long base64url runs mixing upper case, lower case and digits;
 * hex hashes and paths do not match).
 */
const SECRET_VALUES: Array<[RegExp, string]> = [
  [/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?(?:-----END \1-----|$)/g, '[redacted $1]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]'],
  [/(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[a-z])(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{32,}/g, '[redacted]'],
];

function redactText(line: string): string {
  return SECRET_VALUES.reduce((l, [re, by]) => l.replace(re, by), line);
}

export interface Logger {
  error(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  notice(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  debug(msg: string, fields?: Fields): void;
  /** A notice written whatever the level: the ready line tools wait for, stopping, stopped. */
  announce(msg: string, fields?: Fields): void;
  setLevel(level: LogLevel): void;
  readonly level: LogLevel;
  /** A logger that adds `fields` to every line (e.g. a component or request id). */
  child(fields: Fields): Logger;
}

export function createLogger(level: LogLevel = 'info', write: (line: string, isError: boolean) => void = defaultWrite, base: Fields = {}): Logger {
  const state = { level };
  const make = (bound: Fields): Logger => {
    const emit = (lvl: LogLevel, msg: string, fields: Fields = {}, always = false) => {
      if (!always && LEVELS[lvl] > LEVELS[state.level]) return;
      const all = redact({ ...bound, ...fields });
      const kv = Object.entries(all)
        .map(([k, v]) => `${k}=${formatValue(v)}`)
        .join(' ');
      write(redactText(`<${LEVELS[lvl]}>${msg}${kv ? ' ' + kv : ''}`), LEVELS[lvl] <= LEVELS.warn);
    };
    return {
      error: (m, f) => emit('error', m, f),
      warn: (m, f) => emit('warn', m, f),
      notice: (m, f) => emit('notice', m, f),
      info: (m, f) => emit('info', m, f),
      debug: (m, f) => emit('debug', m, f),
      announce: (m, f) => emit('notice', m, f, true),
      setLevel: (l) => {
        state.level = l;
      },
      get level() {
        return state.level;
      },
      child: (f) => make({ ...bound, ...f }),
    };
  };
  return make(base);
}

function defaultWrite(line: string, isError: boolean): void {
  (isError ? process.stderr : process.stdout).write(line + '\n');
}

export const silentLogger: Logger = createLogger('error', () => undefined);
