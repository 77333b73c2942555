import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaults, getPath, schema, setPath, type Config, type Leaf } from './config-keys.js';
import { provisioningProblems } from './config-phones.js';

// The settings and the phone-facing helpers live beside this file; importers keep one path.
export { applyKeys, defaults, diffConfig, isLoopbackHttp, schema, type Config } from './config-keys.js';
export { phoneFacingRegistrar } from './config-phones.js';

/** Where the installed (or checked-out) application lives: the folder with package.json. */
export const appRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/** `license.graceDays` → `PBXD_LICENSE_GRACE_DAYS` */
function envName(path: string): string {
  return 'PBXD_' + path.replace(/\./g, '_').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

function parseEnv(path: string, raw: string): Leaf {
  const sample = getPath(defaults(''), path);
  if (typeof sample === 'number') return raw.trim() === '' ? NaN : Number(raw);
  if (typeof sample === 'boolean' || sample === null) return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : (raw as unknown as boolean);
  if (Array.isArray(sample)) return raw.split(',').map((s) => s.trim()).filter(Boolean);
  return raw;
}

export interface LoadedConfig {
  config: Config;
  /** The file it came from, or null for the built-in development defaults. */
  file: string | null;
  development: boolean;
  /**
   * Why the public development root is trusted: 'checkout' (pbxd runs from a
   * source checkout and the configuration does not decide), 'config' (set
   * explicitly), or null (not trusted).
   */
  developmentTrust?: DevelopmentTrust;
}

type DevelopmentTrust = 'checkout' | 'config' | null;

/** Whether (and why) the public development root is trusted under `config`. */
export function developmentTrustOf(config: Config, development: boolean): DevelopmentTrust {
  const v = config.license.trustDevelopmentRoot;
  return v === true ? 'config' : v === null && (development || runningFromCheckout()) ? 'checkout' : null;
}

/** pbxd runs from a source checkout (a .git beside package.json), not from an installed copy. */
function runningFromCheckout(): boolean {
  return existsSync(join(appRoot, '.git'));
}

const DEFAULT_CONFIG_FILE = '/etc/pbxd/pbxd.json';

/**
 * Layers, later wins: built-in defaults < config file < PBXD_* environment.
 * Started from a checkout (a .git folder beside package.json) without
 * --config, pbxd uses development defaults: data in ./var, API on 127.0.0.1:8080.
 * Every problem is reported at once, and the daemon refuses to start on any.
 */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const development = !opts.file && !env.PBXD_CONFIG && (runningFromCheckout() || env.PBXD_DEV === '1');
  const file = opts.file ?? env.PBXD_CONFIG ?? (development ? null : DEFAULT_CONFIG_FILE);
  const config = defaults(development ? resolve(cwd, 'var') : '/var/lib/pbxd') as unknown as Record<string, unknown>;
  const problems: string[] = [];

  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      // V8 quotes the file around the error; the file may hold a password, and this message goes to the log.
      const reason = (e as NodeJS.ErrnoException).code ? (e as Error).message : `not valid JSON${/at position \d+/.exec((e as Error).message)?.[0].replace(/^/, ' ') ?? ''}`;
      throw new ConfigError([`${file}: ${reason}`]);
    }
    const known = new Set(Object.keys(schema));
    const walk = (o: unknown, prefix: string) => {
      for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
        const path = prefix ? `${prefix}.${k}` : k;
        if (known.has(path)) setPath(config, path, v);
        else if (v && typeof v === 'object' && !Array.isArray(v) && [...known].some((p) => p.startsWith(path + '.'))) walk(v, path);
        else if (!k.startsWith('//') && !k.startsWith('_comment')) problems.push(`${path}: unknown setting`);
      }
    };
    walk(parsed, '');
  }
  for (const path of Object.keys(schema)) {
    const raw = env[envName(path)];
    if (raw !== undefined) setPath(config, path, parseEnv(path, raw));
  }
  for (const [path, spec] of Object.entries(schema)) {
    const problem = spec.check(getPath(config, path));
    if (problem) problems.push(`${path}: ${problem}`);
  }
  if (!problems.length) problems.push(...provisioningProblems((config as unknown as Config).provisioning, development));
  if (problems.length) throw new ConfigError(problems);

  const c = config as unknown as Config;
  c.dataDir = resolve(cwd, c.dataDir);
  if (!c.control.socket) c.control.socket = join(c.dataDir, 'pbxctl.sock');
  c.license.trustedRoots = c.license.trustedRoots.map((p) => resolve(file ? dirname(file) : cwd, p));
  for (const k of ['certFile', 'keyFile'] as const) if (c.http[k]) c.http[k] = resolve(file ? dirname(file) : cwd, c.http[k]);
  if (!c.http.certFile !== !c.http.keyFile) throw new ConfigError(['http.certFile, http.keyFile: set both or neither']);
  const developmentTrust = developmentTrustOf(c, development);
  return { config: c, file, development, developmentTrust };
}

