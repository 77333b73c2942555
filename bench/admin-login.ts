/**
 * Failed-login flood: 200,000 logins with distinct user names from 20
 * addresses (127.0.0.2–21) against the real daemon. The daemon's resident
 * memory must stay within 10 MiB of where it was after a warm-up; the login
 * throttle's entries (pbxd_login_throttle_entries) and the log lines show why.
 * Reference in the same run: as many unauthenticated GET /api/v1/status
 * (401 each), which keep no state at all.
 */
import http from 'node:http';
import type { Bench, BenchRow } from './report.js';
import { pool, round, TestDaemon } from './support.js';
import { rssMiB } from './startup.js';
import { metricValue } from '../test/support/admin-plane.js';

const LOGINS = Number(process.env.BENCH_LOGINS ?? 200_000);
const WARM_UP = 10_000;
const ADDRESSES = Array.from({ length: 20 }, (_, i) => `127.0.0.${i + 2}`);

function send(agent: http.Agent, address: string, method: string, path: string, body?: string): Promise<number> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path, method, agent, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function flood(d: TestDaemon, count: number, offset: number, what: 'login' | 'status'): Promise<{ ms: number; statuses: Record<number, number> }> {
  const agents = ADDRESSES.map((localAddress) => new http.Agent({ keepAlive: true, maxSockets: 2, localAddress }));
  const statuses: Record<number, number> = {};
  const t = performance.now();
  await pool(Array.from({ length: count }, (_, i) => i + offset), 40, async (i) => {
    const s =
      what === 'login'
        ? await send(agents[i % agents.length]!, d.listeners.api!, 'POST', '/api/v1/auth/login', JSON.stringify({ name: `flood-${i}`, password: 'not-a-password' }))
        : await send(agents[i % agents.length]!, d.listeners.api!, 'GET', '/api/v1/status');
    statuses[s] = (statuses[s] ?? 0) + 1;
  });
  for (const a of agents) a.destroy();
  return { ms: performance.now() - t, statuses };
}

async function settledRss(pid: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 1000));
  return Math.round(rssMiB(pid) * 1024);
}

export const bench: Bench = async () => {
  const d = await TestDaemon.start({ config: { log: { level: 'info' } } });
  try {
    await flood(d, WARM_UP, 0, 'status');
    await flood(d, WARM_UP, 0, 'login');
    const refBefore = await settledRss(d.pid);
    const ref = await flood(d, LOGINS, 0, 'status');
    const refAfter = await settledRss(d.pid);

    const linesBefore = d.output.length;
    const before = await settledRss(d.pid);
    const run = await flood(d, LOGINS, WARM_UP, 'login');
    const after = await settledRss(d.pid);
    const metrics = await (await fetch(`${d.apiUrl}/metrics`)).text();
    const entries = (kind: string) => metricValue(metrics, 'pbxd_login_throttle_entries', `kind="${kind}"`);
    const logLines = d.output.slice(linesBefore).filter((l) => /admin login/.test(l)).length;

    const growthMiB = (after - before) / 1024;
    const refGrowthMiB = (refAfter - refBefore) / 1024;
    const rows: BenchRow[] = [
      {
        name: `RSS growth over ${LOGINS} failed logins (distinct names, 20 addresses)`,
        value: round(growthMiB, 1),
        unit: 'MiB',
        reference: { name: `${LOGINS} unauthenticated GET /status`, value: round(refGrowthMiB, 1) },
        target: '≤ 10 MiB',
        met: growthMiB <= 10,
        notes: `VmRSS ${before} → ${after} KiB; statuses ${JSON.stringify(run.statuses)}; throttle entries: ${entries('source')} sources, ${entries('account')} accounts; ${logLines} log lines`,
      },
      {
        name: 'failed logins per second',
        value: Math.round(LOGINS / (run.ms / 1000)),
        unit: 'req/s',
        reference: { name: 'GET /status (401) per second', value: Math.round(LOGINS / (ref.ms / 1000)) },
        ratio: round(ref.ms / run.ms, 2),
      },
    ];
    return rows;
  } finally {
    await d.dispose();
  }
};
