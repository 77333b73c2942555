/**
 * `npm run bench -- growth`: what pbxd costs as the appliance grows. The same
 * figures at 1,000, 10,000 and 100,000 users (each holding two per-user
 * licenses) and as many phones (half licensed, half waiting), seeded straight
 * into SQLite (test/support/scale.ts); each figure at 100k is printed with its
 * growth factor from 10k. Flat means the factor stays near 1.
 *
 * The paced load: PACE_OPS changes a second for PACE_SECONDS, one at a time in
 * turn: a registration, a per-user license assignment, a device assignment and
 * a deletion (which releases that device again). Its latency is per change;
 * its CPU is the daemon's CPU time over the window and the settling after it.
 *
 * Last, the boot storm of bench/startup.ts (10,000 more phones, registered
 * besides the seeded ones) with the daemon's peak RSS.
 *
 * BENCH_GROWTH_SIZES=1000,10000,50000,100000 picks the sizes;
 * BENCH_PROFILE=<dir> writes a CPU profile of the daemon at each size.
 */
import { mkdirSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Bench, BenchRow } from './report.js';
import { TestDaemon, percentile, round } from './support.js';
import { cpuMs, rssMiB } from './startup.js';
import { makePhones, preRegister, storm } from './provisioning.js';
import { SCALE, scaledDaemon } from '../test/support/scale.js';
import { sleep } from '../test/support/daemon.js';

const SIZES = (process.env.BENCH_GROWTH_SIZES ?? '1000,10000,100000').split(',').map(Number);
const PACE_OPS = 10;
const PACE_SECONDS = 12;
const STARTS = 3;
const SAMPLES = 15;
const config = { log: { level: 'warn' }, dev: { clockControl: false }, provisioning: { host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0 } };

interface Figures {
  startMs: number;
  /** CPU time of the daemon to READY: unlike the wall time, it hardly moves when other work shares the cores. */
  startCpuMs: number;
  idleRss: number;
  changeP50: number;
  changeMax: number;
  byKind: Record<string, { p50: number; max: number }>;
  cpuPct: number;
  lists: Record<string, { ms: number; bytes: number; rows: number }>;
  storm: { idle: number; peak: number; rps: number; errors: number };
}

/** The storm of bench/startup.ts: 10,000 phones (registered besides the seeded ones) boot at once. */
const STORM_PHONES = makePhones(10_000);
const STORM_CONCURRENCY = 200;

/** The daemon's peak RSS while the storm's phones boot, sampled every 50 ms, next to its RSS just before. */
async function stormMemory(d: TestDaemon, work: string): Promise<Figures['storm']> {
  await sleep(1500);
  const idle = rssMiB(d.pid);
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(d.pid))), 50);
  try {
    const s = await storm(work, d.listeners.provisioning_http!, STORM_PHONES, STORM_CONCURRENCY);
    return { idle, peak: Math.max(peak, rssMiB(d.pid)), rps: s.rps, errors: s.errors };
  } finally {
    clearInterval(sampler);
  }
}

/** A CPU profile of the daemon's whole run (as bench/provisioning.ts does it: Node refuses --cpu-prof in NODE_OPTIONS). */
function profilerEnv(work: string, n: number): Record<string, string> {
  const dir = process.env.BENCH_PROFILE;
  if (!dir) return {};
  mkdirSync(dir, { recursive: true });
  const file = join(work, `profile-${n}.cjs`);
  writeFileSync(file, `
    const s = new (require('node:inspector').Session)();
    s.connect(); s.post('Profiler.enable'); s.post('Profiler.start');
    process.on('exit', () => s.post('Profiler.stop', (e, r) => require('node:fs').writeFileSync(${JSON.stringify(dir)} + '/growth-${n}-' + process.pid + '.cpuprofile', JSON.stringify(r.profile))));`);
  return { NODE_OPTIONS: `--require ${file}` };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(d: TestDaemon, token: string, method: string, path: string, body?: unknown): Promise<{ ms: number; status: number; bytes: number; json: any }> {
  const t0 = performance.now();
  const r = await fetch(`${d.apiUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  const ms = performance.now() - t0;
  return { ms, status: r.status, bytes: Buffer.byteLength(text), json: text.startsWith('{') ? JSON.parse(text) : null };
}

/** The paced load: a change every 1/PACE_OPS s, each timed; the daemon's CPU over the window and 1 s of settling. */
async function pacedLoad(d: TestDaemon, token: string, n: number): Promise<Pick<Figures, 'changeP50' | 'changeMax' | 'byKind' | 'cpuPct'>> {
  const kinds = ['register', 'assign license', 'assign device', 'delete'] as const;
  const latencies: Record<string, number[]> = Object.fromEntries(kinds.map((k) => [k, []]));
  const total = PACE_OPS * PACE_SECONDS;
  const cpu0 = cpuMs(d.pid);
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / PACE_OPS;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const k = Math.floor(i / kinds.length);
    const userName = `paced${k}`;
    const mac = SCALE.mac(1 + ((k * 7919) % n));
    const kind = kinds[i % kinds.length]!;
    const r =
      kind === 'register' ? await timed(d, token, 'POST', '/api/v1/users', { userName, firstName: 'Paced', lastName: String(k) })
        : kind === 'assign license' ? await timed(d, token, 'POST', '/api/v1/user-licenses', { changes: [{ userName, code: 'voicemail', assigned: true }] })
      : kind === 'assign device' ? await timed(d, token, 'POST', `/api/v1/devices/${mac}/assign`, { userName })
      : await timed(d, token, 'DELETE', `/api/v1/users/${userName}`);
    if (r.status >= 300) throw new Error(`${kind} answered ${r.status}: ${JSON.stringify(r.json).slice(0, 200)}`);
    latencies[kind]!.push(r.ms);
  }
  await sleep(1000);
  const wall = performance.now() - t0;
  const cpuPct = ((cpuMs(d.pid) - cpu0) / wall) * 100;
  const all = Object.values(latencies).flat().sort((a, b) => a - b);
  const byKind = Object.fromEntries(Object.entries(latencies).map(([k, xs]) => [k, { p50: round(percentile([...xs].sort((a, b) => a - b), 50), 1), max: round(Math.max(...xs), 1) }]));
  return { changeP50: percentile(all, 50), changeMax: all[all.length - 1]!, byKind, cpuPct };
}

/** Median time of one answer of each list and read (SAMPLES requests each), with its size. */
async function reads(d: TestDaemon, token: string, n: number): Promise<Figures['lists']> {
  const prefix = SCALE.userName(Math.max(10, Math.floor(n / 10))).slice(0, -1); // matches 10 users
  const paths: Record<string, string> = {
    'GET /devices?state=waiting': '/api/v1/devices?state=waiting',
    'GET /devices?state=waiting, last page': `/api/v1/devices?state=waiting&offset=${SCALE.waiting(n) - 50}`,
    'GET /users': '/api/v1/users',
    'GET /user-licenses?q=… (10 rows)': `/api/v1/user-licenses?q=${prefix}`,
    'GET /audit?q=…': `/api/v1/audit?q=${SCALE.userName(Math.floor(n / 2))}`,
    'GET /status': '/api/v1/status',
    'GET /metrics': '/metrics',
  };
  const out: Figures['lists'] = {};
  for (const [name, path] of Object.entries(paths)) {
    const ms: number[] = [];
    let last = { bytes: 0, json: null as any };
    for (let i = 0; i < SAMPLES; i++) {
      const r = await timed(d, token, 'GET', path);
      if (r.status !== 200) throw new Error(`${path} answered ${r.status}`);
      ms.push(r.ms);
      last = r;
    }
    const rows = last.json ? Math.max(0, ...Object.values(last.json).map((v) => (Array.isArray(v) ? v.length : 0))) : 0;
    out[name] = { ms: median(ms), bytes: last.bytes, rows };
  }
  return out;
}

async function measure(n: number, work: string): Promise<Figures> {
  const start = (dataDir?: string, env: Record<string, string> = {}) => TestDaemon.start({ dataDir, config, env });
  let d = await scaledDaemon(start, n, (dir) => preRegister(dir, STORM_PHONES));
  const dataDir = d.dataDir;
  try {
    await d.stop();
    const starts: number[] = [];
    const startCpu: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const t0 = performance.now();
      d = await start(dataDir, i === STARTS - 1 ? profilerEnv(work, n) : {});
      starts.push(performance.now() - t0);
      startCpu.push(cpuMs(d.pid));
      if (i < STARTS - 1) await d.stop();
    }
    const token = await d.adminToken();
    await d.status();
    await sleep(1500);
    const idleRss = rssMiB(d.pid);
    const lists = await reads(d, token, n);
    const paced = await pacedLoad(d, token, n);
    const stormed = await stormMemory(d, work);
    return { startMs: median(starts), startCpuMs: median(startCpu), idleRss, lists, ...paced, storm: stormed };
  } finally {
    await d.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export const bench: Bench = async () => {
  const work = mkdtempSync(join(tmpdir(), 'pbxd-bench-growth-'));
  const at = new Map<number, Figures>();
  try {
    for (const n of SIZES) at.set(n, await measure(n, work));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const big = Math.max(...SIZES);
  const ref = SIZES.includes(10_000) ? 10_000 : Math.min(...SIZES);
  const k = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));
  const row = (name: string, unit: string, pick: (f: Figures) => number, target?: { text: string; met: (value: number, ratio: number) => boolean }, notes = ''): BenchRow => {
    const value = round(pick(at.get(big)!), 1);
    const refValue = round(pick(at.get(ref)!), 1);
    const ratio = refValue ? round(value / refValue, 2) : undefined;
    return {
      name: `${name} at ${k(big)}`,
      value,
      unit,
      reference: { name: `at ${k(ref)}`, value: refValue },
      ...(ratio !== undefined ? { ratio } : {}),
      ...(target ? { target: target.text, met: target.met(value, ratio ?? 1) } : {}),
      notes: [SIZES.map((n) => `${k(n)}: ${round(pick(at.get(n)!), 1)}`).join(', '), notes].filter(Boolean).join('; '),
    };
  };
  const rows: BenchRow[] = [
    row('paced change p50', 'ms', (f) => f.changeP50, { text: '≤ 5 ms', met: (v) => v <= 5 }, `${PACE_OPS}/s for ${PACE_SECONDS} s: register, assign license, assign device, delete`),
    row('paced change max', 'ms', (f) => f.changeMax, { text: '≤ 50 ms', met: (v) => v <= 50 }),
    ...['register', 'assign license', 'assign device', 'delete'].map((kind) => row(`paced ${kind} p50`, 'ms', (f) => f.byKind[kind]!.p50, undefined, `max at ${k(big)}: ${at.get(big)!.byKind[kind]!.max} ms`)),
    row('daemon CPU under the paced load', '%', (f) => f.cpuPct, { text: `≤ 1.5× the ${k(ref)} figure`, met: (_v, r) => r <= 1.5 }),
    ...Object.keys(at.get(big)!.lists).map((name) =>
      row(name, 'ms', (f) => f.lists[name]!.ms, name.includes('/status') || name.includes('/metrics') ? undefined : { text: '< 30 ms', met: (v) => v < 30 }, `${at.get(big)!.lists[name]!.rows} rows, ${round(at.get(big)!.lists[name]!.bytes / 1024, 1)} KiB`),
    ),
    row('start-up to READY', 'ms', (f) => f.startMs, { text: '< 1500 ms', met: (v) => v < 1500 }, `median of ${STARTS}; wall time, grows with the machine's load`),
    row('start-up CPU time to READY', 'ms', (f) => f.startCpuMs, undefined, `median of ${STARTS}; user + system time of the daemon, steadier than the wall time on a shared machine`),
    row('RSS idle', 'MiB', (f) => f.idleRss),
    row('RSS peak during a 10,000-phone storm', 'MiB', (f) => f.storm.peak, { text: `< 200 MiB and ≤ 1.5× the ${k(ref)} figure`, met: (v, r) => v < 200 && r <= 1.5 },
      `idle before it at ${k(big)}: ${round(at.get(big)!.storm.idle, 1)} MiB; ${Math.round(at.get(big)!.storm.rps)} req/s, ${at.get(big)!.storm.errors} errors`),
  ];
  return rows;
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await bench()) console.log(`${r.name.padEnd(52)} ${String(r.value).padStart(8)} ${r.unit.padEnd(4)} ${r.reference ? `${r.reference.name}: ${r.reference.value}` : ''} ${r.ratio ?? ''}× ${r.target ?? ''} ${r.met === undefined ? '' : r.met ? 'met' : 'MISSED'}  (${r.notes})`);
}
