/**
 * How many client sessions the daemon holds, its memory per session, and how
 * fast a batch license removal closes them. Runnable alone:
 *   npm run build && node dist/bench/sessions.js [sessions]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Bench, BenchRow } from './report.js';
import { TestDaemon } from '../test/support/daemon.js';
import { ClientSocket, installClientLicense } from '../test/support/sessions.js';

const USERS = 1000;
/** Sessions opened in all (spread over the users, ≤ sessions.maxPerUser each). Each needs a file descriptor on both sides. */
const SESSIONS = Number(process.env.SESSIONS ?? process.argv[2]) || 4000;
const OPENING_AT_ONCE = 200;

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

async function ok(d: TestDaemon, method: string, path: string, body: unknown): Promise<any> {
  const r = await d.request(method, path, { body });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text.slice(0, 300)}`);
  return r.json;
}

const names = Array.from({ length: USERS }, (_, i) => `bench${String(i).padStart(4, '0')}`);
const batch = (assigned: boolean) => ({ changes: names.map((userName) => ({ userName, code: 'clientbundle', assigned })) });

export const bench: Bench = async () => {
  const perUser = Math.ceil(SESSIONS / USERS);
  const d = await TestDaemon.start({ config: { log: { level: 'info' }, sessions: { maxPerUser: Math.max(5, perUser) } } });
  const clients: ClientSocket[] = [];
  try {
    await installClientLicense(d);
    await ok(d, 'POST', '/api/v1/users/import', { users: names.map((userName) => ({ userName, firstName: 'Bench', lastName: userName })) });
    const tokens = new Map<string, string>();
    for (let i = 0; i < names.length; i += 100)
      await Promise.all(names.slice(i, i + 100).map(async (u) => tokens.set(u, (await ok(d, 'POST', `/api/v1/users/${u}/client-tokens`, { label: 'bench' })).token)));

    // Reference: the same batch removal with no session open.
    await ok(d, 'POST', '/api/v1/user-licenses', batch(true));
    let t = performance.now();
    await ok(d, 'POST', '/api/v1/user-licenses', batch(false));
    const revokeBare = performance.now() - t;
    await ok(d, 'POST', '/api/v1/user-licenses', batch(true));

    const rssBefore = rssKiB(d.pid);
    t = performance.now();
    for (let i = 0; i < SESSIONS; i += OPENING_AT_ONCE) {
      const wave = await Promise.all(
        Array.from({ length: Math.min(OPENING_AT_ONCE, SESSIONS - i) }, (_, j) => {
          const user = names[(i + j) % USERS]!;
          return ClientSocket.hello(d, { kind: (['desktop', 'app', 'tapi'] as const)[(i + j) % 3]!, user, token: tokens.get(user)! });
        }),
      );
      clients.push(...wave);
    }
    const openMs = performance.now() - t;
    const held = clients.filter((c) => c.welcome).length;
    const listed = (await ok(d, 'GET', '/api/v1/sessions', undefined)).total as number;
    if (held !== SESSIONS || listed !== SESSIONS) throw new Error(`opened ${held}, listed ${listed} of ${SESSIONS}`);
    await new Promise((r) => setTimeout(r, 500));
    const rssAfter = rssKiB(d.pid);

    t = performance.now();
    await ok(d, 'POST', '/api/v1/user-licenses', batch(false));
    const apiMs = performance.now() - t;
    const codes = await Promise.all(clients.map((c) => c.closed.then((x) => x.code)));
    const allClosedMs = performance.now() - t;
    const wrong = codes.filter((c) => c !== 4010).length;
    // The daemon's own share: how long its handler took to end them all (its log line).
    const daemonMs = d.output.map((l) => /client sessions ended: license removed .*sessions=(\d+) ms=(\d+)/.exec(l)).filter(Boolean).map((m) => Number(m![2])).reduce((a, b) => a + b, 0);

    const rows: BenchRow[] = [
      { name: 'client sessions held', value: held, unit: 'sessions', notes: `${USERS} users, ${perUser} per user; listed by GET /sessions: ${listed}` },
      { name: 'open rate (hello → welcome, 200 at a time)', value: Math.round(held / (openMs / 1000)), unit: 'sessions/s' },
      { name: 'daemon RSS per session', value: Math.round(((rssAfter - rssBefore) / held) * 10) / 10, unit: 'KiB', notes: `VmRSS ${rssBefore} → ${rssAfter} KiB (no forced GC)` },
      {
        name: `batch removal of clientbundle from ${USERS} users → last of ${held} sessions closed`,
        value: Math.round(allClosedMs),
        unit: 'ms',
        reference: { name: 'same batch call with no session open', value: Math.round(revokeBare) },
        ratio: Math.round((allClosedMs / revokeBare) * 100) / 100,
        notes: `API call answered in ${Math.round(apiMs)} ms; the daemon ended all sessions in ${daemonMs} ms (the rest is the clients' side on the same machine); ${wrong} closes with a code other than 4010`,
      },
    ];
    return rows;
  } finally {
    for (const c of clients) c.close();
    await d.dispose();
  }
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  bench().then(
    (rows) => console.table(rows.map((r) => ({ name: r.name, value: r.value, unit: r.unit, reference: r.reference ? `${r.reference.value} (${r.reference.name})` : '', ratio: r.ratio ?? '', notes: r.notes ?? '' }))),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
