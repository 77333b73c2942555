/** Minimal flag parsing shared by pbxctl and pbx-license: `--key value`, `--key=value`, `--flag`, positionals. */
export interface Args {
  positional: string[];
  flags: Map<string, string[]>;
  has(name: string): boolean;
  get(name: string): string | undefined;
  all(name: string): string[];
}

/** A flag given without its value; says which, so each CLI can say it in its own words. */
export class MissingValueError extends Error {
  constructor(readonly flag: string) {
    super(`${flag} needs a value`);
  }
}

export function parseArgs(argv: string[], booleanFlags: ReadonlySet<string>): Args {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  const put = (k: string, v: string) => flags.set(k, [...(flags.get(k) ?? []), v]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) put(a.slice(2, eq), a.slice(eq + 1));
      else if (booleanFlags.has(a.slice(2))) put(a.slice(2), 'true');
      else if (i + 1 < argv.length) put(a.slice(2), argv[++i]!);
      else throw new MissingValueError(a);
    } else positional.push(a);
  }
  return {
    positional,
    flags,
    has: (n) => flags.has(n),
    get: (n) => flags.get(n)?.at(-1),
    all: (n) => flags.get(n) ?? [],
  };
}
