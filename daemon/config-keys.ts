import type { LogLevel } from './kernel/log.js';
import { LEVELS } from './kernel/log.js';
import { validate as validCron } from 'node-cron';

/**
 * The settings: every key with its type, its default, its check and whether
 * a change needs a restart. Loading (file, environment) is config.ts; this is
 * what is loaded.
 */

export interface Config {
  /** The data folder: database, system keys, TLS material, control socket. */
  dataDir: string;
  http: {
    host: string;
    port: number;
    /** Serve the admin UI/API over HTTPS (HSTS, Secure cookies). */
    tls: boolean;
    /** The admin's own certificate and key (PEM files); empty: the appliance's certificate from its own CA (<dataDir>/tls). */
    certFile: string;
    keyFile: string;
    /** With tls: a plain HTTP listener on redirectPort that only redirects to HTTPS. */
    redirect: boolean;
    redirectPort: number;
    /** Strict-Transport-Security max-age over HTTPS (0: no header). */
    hstsSeconds: number;
    /** Express "trust proxy": '' (off), 'loopback', or addresses/subnets of the reverse proxy, comma-separated. */
    trustProxy: string;
    /** Host names the admin UI is reached by, besides provisioning.hostnames, localhost and the appliance's own addresses. */
    hostnames: string[];
  };
  provisioning: {
    host: string;
    httpPort: number;
    httpsPort: number;
    wpiPort: number;
    /** Names and addresses the appliance's TLS certificate is made for. */
    hostnames: string[];
    /** SIP registrar the phones register with ('' = the first hostname). */
    sipRegistrar: string;
    sipPort: number;
    timeZone: string;
    /** '' = the registrar. */
    ntpServer: string;
    language: string;
    /** Largest request body a phone may send (WPI messages); larger ones get 413 unread. */
    maxBodyBytes: number;
    /** Requests that miss (unknown MAC, bad path) per source address and minute. */
    missesPerMinute: number;
    /** Unassigned devices one source address may have recorded automatically. */
    autoRecordPerSource: number;
    /** Requests in progress beyond which new ones get 503 with Retry-After. */
    maxInFlight: number;
    /** Credential-bearing files only under /<site key>/ for vendors given a provisioning URL (appliance: on). */
    requireKey: boolean;
    /** Hours a rotated-out site key keeps working. */
    keyOverlapHours: number;
    /** HTTP digest authentication with the site's provisioning credentials, for vendors whose firmware supports it. */
    digest: boolean;
    /** Credential-bearing files only over HTTPS/WPI for vendors that fetch over TLS (appliance: on). */
    credentialsOverTls: boolean;
    /** Lock a device to the address of its first credential fetch. */
    deviceLock: boolean;
    /** Minutes a device may move to a new address after it is assigned or a window is opened. */
    enrolmentMinutes: number;
    /** Distinct known MACs a source may ask for per minute without being entitled before it is limited. */
    foreignMacsPerMinute: number;
  };
  control: { socket: string };
  /**
   * trustDevelopmentRoot: null (the default) trusts the public development root
   * only when pbxd runs from a checkout; true/false decide explicitly.
   * loadConfig resolves it to a boolean and says why in LoadedConfig.developmentTrust.
   */
  license: { graceDays: number; trustedRoots: string[]; trustDevelopmentRoot: boolean | null; maxFutureMinutes: number };
  admin: {
    initialPassword: string;
    sessionHours: number;
    /** Failed logins free of delay, per source address and per account; then 2 s, 4 s, 8 s, ... up to loginMaxDelaySeconds */
    loginFailuresPerMinute: number;
    loginMaxDelaySeconds: number;
    /** Default lifetime of an API token. */
    tokenDays: number;
  };
  log: { level: LogLevel };
  /** /metrics without a token for loopback clients (turn off when a local reverse proxy forwards outside requests). */
  metrics: { allowLoopback: boolean };
  /** Client sessions over WebSocket (desktop client, app, TAPI, operator console). */
  sessions: { heartbeatSeconds: number; maxPerUser: number; maxMessageBytes: number; helloSeconds: number; authFailuresPerMinute: number };
  /** Development only: lets an admin move the daemon's clock through the API (tests, demos). */
  dev: { clockControl: boolean };
  /** Scheduled jobs: cron schedule and on/off each, plus their own settings. */
  jobs: {
    expiryWatch: JobConfig;
    licenseCheck: JobConfig;
    clockRollback: JobConfig & { toleranceMinutes: number };
    backup: JobConfig & { keep: number };
    staleDevices: JobConfig & { days: number };
    usagePeaks: JobConfig;
  };
  /** The vendor's activation server (online check, request keys); empty url: offline appliance. */
  activation: { url: string; timeoutMs: number };
  /** Where the host fingerprint (the system id's binding to this machine) is read from; see docs/enforcement.md. */
  host: { machineIdFile: string; productUuidFile: string; netDir: string; rootFsUuidFile: string };
}

interface JobConfig {
  schedule: string;
  enabled: boolean;
}

/** A setting's value as the environment gives it. */
export type Leaf = string | number | boolean | string[];
interface KeySpec {
  check: (v: unknown) => string | null;
  /** false: a SIGHUP reload applies it; true: it takes effect at the next start. */
  restart: boolean;
}

const port = (v: unknown) => (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535 ? null : 'must be a port number 0..65535 (0: any free port)');
const str = (v: unknown) => (typeof v === 'string' ? null : 'must be a string');
const bool = (v: unknown) => (typeof v === 'boolean' ? null : 'must be true or false');
const posInt = (v: unknown) => (Number.isInteger(v) && (v as number) >= 0 ? null : 'must be a whole number ≥ 0');
const strList = (v: unknown) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? null : 'must be a list of strings');
const between = (min: number, max: number) => (v: unknown) => (Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? null : `must be a whole number from ${min} to ${max}`);
const atLeast = (min: number) => (v: unknown) => (Number.isInteger(v) && (v as number) >= min ? null : `must be a whole number ≥ ${min}`);
const level = (v: unknown) => (typeof v === 'string' && v in LEVELS ? null : `must be one of ${Object.keys(LEVELS).join(', ')}`);

/** Every key, its check, and whether changing it needs a restart. */
export const schema: Record<string, KeySpec> = {
  dataDir: { check: str, restart: true },
  'http.host': { check: str, restart: true },
  'http.port': { check: port, restart: true },
  'http.tls': { check: bool, restart: true },
  'http.certFile': { check: str, restart: true },
  'http.keyFile': { check: str, restart: true },
  'http.redirect': { check: bool, restart: true },
  'http.redirectPort': { check: port, restart: true },
  'http.hstsSeconds': { check: posInt, restart: true },
  'http.trustProxy': { check: (v) => (typeof v === 'string' && /^[0-9a-zA-Z.:/, _-]*$/.test(v) ? null : "must be '', 'loopback' or addresses/subnets, comma-separated"), restart: true },
  'http.hostnames': { check: strList, restart: true },
  'provisioning.host': { check: str, restart: true },
  'provisioning.httpPort': { check: port, restart: true },
  'provisioning.httpsPort': { check: port, restart: true },
  'provisioning.wpiPort': { check: port, restart: true },
  'provisioning.hostnames': { check: strList, restart: true },
  'provisioning.sipRegistrar': { check: str, restart: false },
  'provisioning.sipPort': { check: port, restart: false },
  'provisioning.timeZone': { check: str, restart: false },
  'provisioning.ntpServer': { check: str, restart: false },
  'provisioning.language': { check: str, restart: false },
  'provisioning.maxBodyBytes': { check: posInt, restart: false },
  'provisioning.missesPerMinute': { check: posInt, restart: false },
  'provisioning.autoRecordPerSource': { check: posInt, restart: false },
  'provisioning.maxInFlight': { check: posInt, restart: false },
  'provisioning.requireKey': { check: bool, restart: false },
  'provisioning.keyOverlapHours': { check: posInt, restart: false },
  'provisioning.credentialsOverTls': { check: bool, restart: false },
  'provisioning.digest': { check: bool, restart: false },
  'provisioning.deviceLock': { check: bool, restart: false },
  'provisioning.enrolmentMinutes': { check: atLeast(1), restart: false },
  'provisioning.foreignMacsPerMinute': { check: atLeast(1), restart: false },
  'control.socket': { check: str, restart: true },
  // Bounded: the appliance's root may edit the config, and an unbounded grace would be a license without end.
  'license.graceDays': { check: between(0, 30), restart: false },
  'license.trustedRoots': { check: strList, restart: true },
  'license.trustDevelopmentRoot': { check: (v) => (v === null || typeof v === 'boolean' ? null : 'must be true, false or null (null: only when running from a checkout)'), restart: true },
  'license.maxFutureMinutes': { check: between(0, 1440), restart: false },
  'admin.initialPassword': { check: str, restart: true },
  'admin.sessionHours': { check: posInt, restart: false },
  'admin.loginFailuresPerMinute': { check: posInt, restart: false },
  'admin.loginMaxDelaySeconds': { check: atLeast(1), restart: false },
  'admin.tokenDays': { check: (v) => (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 3650 ? null : 'must be a whole number of days 1..3650'), restart: false },
  'log.level': { check: level, restart: false },
  'metrics.allowLoopback': { check: bool, restart: false },
  'dev.clockControl': { check: bool, restart: true },
  ...jobKeys(),
  'jobs.clockRollback.toleranceMinutes': { check: posInt, restart: false },
  'jobs.backup.keep': { check: (v) => (Number.isInteger(v) && (v as number) >= 1 ? null : 'must be a whole number ≥ 1'), restart: false },
  'jobs.staleDevices.days': { check: (v) => (Number.isInteger(v) && (v as number) >= 1 ? null : 'must be a whole number ≥ 1'), restart: false },
  'host.machineIdFile': { check: str, restart: true },
  'host.productUuidFile': { check: str, restart: true },
  'host.netDir': { check: str, restart: true },
  'host.rootFsUuidFile': { check: str, restart: true },
  'activation.url': { check: (v) => (v === '' || (typeof v === 'string' && (/^https:\/\/[^\s]+$/.test(v) || isLoopbackHttp(v))) ? null : 'must be an https:// URL (http:// only to 127.0.0.1 or [::1], for development) or empty'), restart: false },
  'activation.timeoutMs': { check: (v) => (Number.isInteger(v) && (v as number) >= 100 ? null : 'must be a whole number of milliseconds ≥ 100'), restart: false },
  'sessions.heartbeatSeconds': { check: atLeast(1), restart: false },
  'sessions.maxPerUser': { check: atLeast(1), restart: false },
  'sessions.maxMessageBytes': { check: atLeast(256), restart: false },
  'sessions.helloSeconds': { check: atLeast(1), restart: false },
  'sessions.authFailuresPerMinute': { check: atLeast(1), restart: false },
};

/** Plain http:// is allowed only to this machine (a development activation server): it never crosses a network. */
export function isLoopbackHttp(url: string): boolean {
  return /^http:\/\/(127(\.\d{1,3}){3}|\[::1\]|localhost)(:\d+)?(\/[^\s]*)?$/.test(url);
}

function jobKeys(): Record<string, KeySpec> {
  const cron = (v: unknown) => (typeof v === 'string' && validCron(v) ? null : 'must be a cron expression, e.g. "30 2 * * *"');
  const out: Record<string, KeySpec> = {};
  for (const name of Object.keys(defaults('').jobs)) {
    out[`jobs.${name}.schedule`] = { check: cron, restart: false };
    out[`jobs.${name}.enabled`] = { check: bool, restart: false };
  }
  return out;
}

export function defaults(dataDir: string): Config {
  return {
    dataDir,
    http: { host: '127.0.0.1', port: 8080, tls: false, certFile: '', keyFile: '', redirect: false, redirectPort: 8080, hstsSeconds: 31_536_000, trustProxy: '', hostnames: [] },
    provisioning: {
      host: '0.0.0.0', httpPort: 6970, httpsPort: 6971, wpiPort: 18443, hostnames: ['localhost'],
      sipRegistrar: '', sipPort: 5060, timeZone: 'Europe/Berlin', ntpServer: '', language: 'de',
      maxBodyBytes: 65536, missesPerMinute: 120, autoRecordPerSource: 50, maxInFlight: 4000,
      // Development: phones may fetch without the key and over HTTP; the appliance config turns both on.
      requireKey: false, keyOverlapHours: 168, credentialsOverTls: false, digest: false, deviceLock: true, enrolmentMinutes: 60, foreignMacsPerMinute: 10,
    },
    control: { socket: '' },
    license: { graceDays: 14, trustedRoots: [], trustDevelopmentRoot: null, maxFutureMinutes: 5 },
    admin: { initialPassword: '', sessionHours: 12, loginFailuresPerMinute: 5, loginMaxDelaySeconds: 300, tokenDays: 90 },
    log: { level: 'info' },
    metrics: { allowLoopback: true },
    dev: { clockControl: false },
    jobs: {
      expiryWatch: { schedule: '* * * * *', enabled: true },
      licenseCheck: { schedule: '17 3 * * *', enabled: true },
      clockRollback: { schedule: '* * * * *', enabled: true, toleranceMinutes: 10 },
      backup: { schedule: '30 2 * * *', enabled: true, keep: 7 },
      staleDevices: { schedule: '0 4 * * *', enabled: false, days: 90 },
      usagePeaks: { schedule: '5 * * * *', enabled: true },
    },
    activation: { url: '', timeoutMs: 10_000 },
    host: { machineIdFile: '/etc/machine-id', productUuidFile: '/sys/class/dmi/id/product_uuid', netDir: '/sys/class/net', rootFsUuidFile: '/run/pbxd/rootfs_uuid' },
    sessions: { heartbeatSeconds: 30, maxPerUser: 5, maxMessageBytes: 16 * 1024, helloSeconds: 5, authFailuresPerMinute: 20 },
  };
}

/** A value at a dotted path (`license.graceDays`). */
export function getPath(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  o[keys[keys.length - 1]!] = value;
}

/** Copy the values of `keys` (dotted paths) from `source` into `target`, in place. */
export function applyKeys(target: Config, source: Config, keys: string[]): void {
  for (const k of keys) setPath(target as unknown as Record<string, unknown>, k, structuredClone(getPath(source, k)));
}

/** What a reload would change, split into what applies now and what needs a restart. */
export function diffConfig(a: Config, b: Config): { applied: string[]; restartRequired: string[] } {
  const applied: string[] = [];
  const restartRequired: string[] = [];
  for (const [path, spec] of Object.entries(schema)) {
    if (JSON.stringify(getPath(a, path)) !== JSON.stringify(getPath(b, path))) (spec.restart ? restartRequired : applied).push(path);
  }
  return { applied, restartRequired };
}
