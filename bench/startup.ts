/**
 * Start-up time (spawn → READY line) and resident memory of the real daemon
 * with a realistic data set (10,000 users holding per-user licenses, 10,000
 * provisioned devices assigned to them, a license of the same size), next to
 * the same daemon on an empty database: the reference shows what the data
 * costs, not what Node costs. Then the memory of that daemon while all 10,000
 * phones boot at once (the provisioning bench's storm), next to its idle memory.
 *
 * Ratios are reference / value (lower is better here), as bench/report.ts says:
 * above 1 the daemon does better than its reference.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Bench, BenchRow } from './report.js';
import { TestDaemon, round } from './support.js';
import { makePhones, preRegister, storm } from './provisioning.js';
import { sleep } from '../test/support/daemon.js';

const USERS = 10_000;
const STORM_CONCURRENCY = 200;
const phones = makePhones(USERS);
const ciscoPhones = phones.filter((p) => p.vendor === 'cisco').length;
/** Provisioning on ephemeral ports, without the per-source miss limit (all phones come from 127.0.0.1 here). */
const config = { log: { level: 'warn' }, dev: { clockControl: false }, provisioning: { host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0, missesPerMinute: 1_000_000 } };
const STARTS = 7;
const IDLE_MS = 1500;

/** VmRSS of a process in MiB, from /proc (what `systemctl status` and top show as RES). */
export function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

/** CPU time (user + system) a process has used so far, in ms: unlike wall time, it does not grow when other work shares the cores. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat (12 and 13 after the command name), in clock ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * A data folder with USERS users, each with one assigned device (the
 * provisioning bench's mix of phones, written straight into the database as
 * that bench does) and holding clientbundle, under a license of that size.
 */
export async function seed(dataDir: string): Promise<void> {
  let d = await TestDaemon.start({ dataDir, config });
  await d.installLicense({ quantities: { users: USERS + 10, 'devices.cisco': ciscoPhones, 'devices.unify': 10 }, perUser: { clientbundle: USERS, vap: 100 } });
  await d.stop();
  await preRegister(dataDir, phones);
  d = await TestDaemon.start({ dataDir, config });
  try {
    const changes = phones.map((_, i) => ({ userName: `bench${i}`, code: 'clientbundle', assigned: true }));
    const assign = await d.request('POST', '/api/v1/user-licenses', { body: { changes } });
    if (assign.status !== 200 || assign.json.applied !== USERS) throw new Error(`seeding failed: ${assign.text.slice(0, 200)}`);
    const devices = (await d.request('GET', '/api/v1/devices?limit=1')).json.total;
    if (devices !== USERS) throw new Error(`seeding failed: ${devices} devices`);
  } finally {
    await d.stop();
  }
}

/** Median start-up and idle RSS over STARTS starts on the same data folder. */
async function measure(dataDir: string): Promise<{ startMs: number; rss: number; startsMs: number[]; cpu: number }> {
  const starts: number[] = [];
  const cpu: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const t0 = performance.now();
    const d = await TestDaemon.start({ dataDir, config });
    starts.push(performance.now() - t0);
    cpu.push(cpuMs(d.pid));
    // A first admin request, as the web UI would make, so the figure is of a daemon in use, not one never touched.
    await d.status();
    await sleep(IDLE_MS);
    rss.push(rssMiB(d.pid));
    await d.stop();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { startMs: median(starts), rss: median(rss), startsMs: starts.map((s) => Math.round(s)), cpu: median(cpu) };
}

/** The daemon's peak RSS while every phone boots at once, sampled every 50 ms. */
async function stormMemory(dataDir: string, work: string): Promise<{ idle: number; peak: number; rps: number; p99: number; errors: number; requests: number }> {
  const d = await TestDaemon.start({ dataDir, config });
  try {
    await d.status();
    await sleep(IDLE_MS);
    const idle = rssMiB(d.pid);
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(d.pid))), 50);
    try {
      const s = await storm(work, d.listeners.provisioning_http!, phones, STORM_CONCURRENCY);
      return { idle, peak, rps: s.rps, p99: s.p99, errors: s.errors, requests: s.requests };
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await d.stop();
  }
}

export const bench: Bench = async () => {
  const full = mkdtempSync(join(tmpdir(), 'pbxd-bench-full-'));
  const empty = mkdtempSync(join(tmpdir(), 'pbxd-bench-empty-'));
  const work = mkdtempSync(join(tmpdir(), 'pbxd-bench-storm-'));
  chmodSync(work, 0o755);
  try {
    await seed(full);
    // The empty reference is started once first, so it is measured on a migrated database as the full one is.
    await (await TestDaemon.start({ dataDir: empty, config })).stop();
    const ref = await measure(empty);
    const withData = await measure(full);
    const st = await stormMemory(full, work);
    const data = `${USERS} users with licenses, ${USERS} devices`;
    const rows: BenchRow[] = [
      {
        name: `start-up to READY, ${data} (median of ${STARTS})`,
        value: round(withData.startMs),
        unit: 'ms',
        reference: { name: 'same daemon, empty database', value: round(ref.startMs) },
        ratio: round(ref.startMs / withData.startMs, 2),
        target: '< 1000 ms',
        met: withData.startMs < 1000,
        notes: `spawn of node to the READY line; each start: ${withData.startsMs.join(', ')} ms; CPU time to READY ${withData.cpu} ms (empty: ${ref.cpu} ms); load average ${os.loadavg()[0]!.toFixed(1)}`,
      },
      {
        name: `resident memory idle, ${data}`,
        value: round(withData.rss),
        unit: 'MiB',
        reference: { name: 'same daemon, empty database', value: round(ref.rss) },
        ratio: round(ref.rss / withData.rss, 2),
        target: '< 150 MiB',
        met: withData.rss < 150,
        notes: `VmRSS ${IDLE_MS / 1000} s after READY and one status request`,
      },
      {
        name: `resident memory under a boot storm of all ${USERS} phones`,
        value: round(st.peak),
        unit: 'MiB',
        reference: { name: 'same daemon idle before the storm', value: round(st.idle) },
        ratio: round(st.idle / st.peak, 2),
        target: '< 150 MiB',
        met: st.peak < 150,
        notes: `peak VmRSS sampled every 50 ms; storm: ${st.requests} requests at concurrency ${STORM_CONCURRENCY}, ${Math.round(st.rps)} req/s, p99 ${round(st.p99)} ms, ${st.errors} errors (wrk, a new connection per request)`,
      },
    ];
    return rows;
  } finally {
    for (const dir of [full, empty, work]) rmSync(dir, { recursive: true, force: true });
  }
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.table(await bench());
