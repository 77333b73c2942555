/**
 * Start-up time (spawn → READY line) and resident memory of the real daemon
 * with a realistic data set (10,000 users holding per-user licenses, a license
 * of the same size), next to the same daemon on an empty database: the
 * reference shows what the data costs, not what Node costs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Bench, BenchRow } from './report.js';
import { TestDaemon, round } from './support.js';
import { sleep } from '../test/support/daemon.js';

const USERS = 10_000;
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

/** A data folder with USERS users, each holding clientbundle, under a license of that size. */
async function seed(dataDir: string): Promise<void> {
  const d = await TestDaemon.start({ dataDir, config: { log: { level: 'warn' } } });
  try {
    await d.installLicense({ quantities: { users: USERS, 'devices.cisco': USERS / 2, 'devices.unify': USERS / 2 }, perUser: { clientbundle: USERS, vap: 100 } });
    const users = Array.from({ length: USERS }, (_, i) => ({ userName: `user${i}`, firstName: 'Bench', lastName: `User ${i}`, extension: String(10_000 + i) }));
    const imp = await d.request('POST', '/api/v1/users/import', { body: { users } });
    if (imp.status !== 200 || imp.json.created.length !== USERS) throw new Error(`seeding failed: ${imp.text.slice(0, 200)}`);
    const assign = await d.request('POST', '/api/v1/user-licenses', { body: { changes: users.map((u) => ({ userName: u.userName, code: 'clientbundle', assigned: true })) } });
    if (assign.status !== 200) throw new Error(`seeding failed: ${assign.text.slice(0, 200)}`);
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
    const d = await TestDaemon.start({ dataDir, config: { log: { level: 'warn' } } });
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

export const bench: Bench = async () => {
  const full = mkdtempSync(join(tmpdir(), 'pbxd-bench-full-'));
  const empty = mkdtempSync(join(tmpdir(), 'pbxd-bench-empty-'));
  try {
    await seed(full);
    // The empty reference is started once first, so it is measured on a migrated database as the full one is.
    await (await TestDaemon.start({ dataDir: empty, config: { log: { level: 'warn' } } })).stop();
    const ref = await measure(empty);
    const withData = await measure(full);
    const rows: BenchRow[] = [
      {
        name: `start-up to READY, ${USERS} users with licenses (median of ${STARTS})`,
        value: round(withData.startMs),
        unit: 'ms',
        reference: { name: 'same daemon, empty database', value: round(ref.startMs) },
        ratio: round(withData.startMs / ref.startMs, 2),
        target: '< 1000 ms',
        met: withData.startMs < 1000,
        notes: `spawn of node to the READY line; each start: ${withData.startsMs.join(', ')} ms; CPU time to READY ${withData.cpu} ms (empty: ${ref.cpu} ms); load average ${os.loadavg()[0]!.toFixed(1)}`,
      },
      {
        name: `resident memory idle, ${USERS} users with licenses`,
        value: round(withData.rss),
        unit: 'MiB',
        reference: { name: 'same daemon, empty database', value: round(ref.rss) },
        ratio: round(withData.rss / ref.rss, 2),
        target: '< 150 MiB',
        met: withData.rss < 150,
        notes: `VmRSS ${IDLE_MS / 1000} s after READY and one status request`,
      },
    ];
    return rows;
  } finally {
    rmSync(full, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  }
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.table(await bench());
