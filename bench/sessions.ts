/**
 * How many client sessions the daemon holds, its memory per session, and how
 * fast a batch license removal closes them. Runnable alone:
 *   npm run build && node dist/bench/sessions.js [sessions]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Bench, BenchRow } from './report.js';
import { TestDaemon } from '../test/support/daemon.js';
import { ClientSocket, installClientLicense } from '../test/support/sessions.js';
import { round } from './support.js';

const USERS = 1000;
/** Sessions opened in all (spread over the users, ≤ sessions.maxPerUser each). Each needs a file descriptor on both sides. */
const SESSIONS = Number(process.env.SESSIONS ?? process.argv[2]) || 4000;
const OPENING_AT_ONCE = 200;

/**
 * The reference: a bare `ws` server in its own process that answers a hello
 * with a welcome and does nothing else (no auth, no license, no registry).
 */
const BARE_SERVER = `
  const { WebSocketServer } = require(${JSON.stringify(createRequire(import.meta.url).resolve('ws'))});
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, maxPayload: 16384 });
  wss.on('connection', (ws) => ws.on('message', () => ws.send(JSON.stringify({ type: 'welcome', session: {} }))));
  wss.on('listening', () => console.log(wss.address().port));
  // a line on stdin: close every connection at once, as a license removal does
  process.stdin.on('data', () => { for (const ws of wss.clients) { ws.send('{"type":"error"}'); ws.close(4010, 'license removed'); } });
`;

async function bareServer(): Promise<{ pid: number; address: string; closeAll: () => void; stop: () => void }> {
  const child = spawn(process.execPath, ['-e', BARE_SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout!.once('data', (b: Buffer) => resolve(b.toString().trim())));
  return { pid: child.pid!, address: `127.0.0.1:${port}`, closeAll: () => child.stdin!.write('close\n'), stop: () => child.kill() };
}

/** Open `n` hellos against `listeners.api`, 200 at a time; resolves with the sockets and the time taken. */
async function openMany(target: Pick<TestDaemon, 'listeners'>, n: number, hello: (i: number) => { kind: string; user: string; token: string }): Promise<{ clients: ClientSocket[]; ms: number }> {
  const clients: ClientSocket[] = [];
  const t = performance.now();
  for (let i = 0; i < n; i += OPENING_AT_ONCE) {
    const wave = await Promise.all(Array.from({ length: Math.min(OPENING_AT_ONCE, n - i) }, (_, j) => ClientSocket.hello(target, hello(i + j))));
    clients.push(...wave);
  }
  return { clients, ms: performance.now() - t };
}

/** Both servers get the same warm-up (JIT, heap) before they are measured. */
async function warmUp(target: Pick<TestDaemon, 'listeners'>, hello: (i: number) => { kind: string; user: string; token: string }): Promise<void> {
  for (let round = 0; round < 3; round++) {
    const { clients } = await openMany(target, OPENING_AT_ONCE, hello);
    await Promise.all(clients.map((c) => (c.ws.close(), c.closed)));
  }
}

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

    // Reference first: the same number of hellos against a bare ws server.
    const bare = await bareServer();
    await warmUp({ listeners: { api: bare.address } }, () => ({ kind: 'desktop', user: 'x', token: 'x' }));
    const bareRssBefore = rssKiB(bare.pid);
    const bareRun = await openMany({ listeners: { api: bare.address } }, SESSIONS, () => ({ kind: 'desktop', user: 'x', token: 'x' }));
    await new Promise((r) => setTimeout(r, 500));
    const bareRssPerSession = (rssKiB(bare.pid) - bareRssBefore) / SESSIONS;
    t = performance.now();
    bare.closeAll();
    await Promise.all(bareRun.clients.map((c) => c.closed));
    const bareCloseAllMs = performance.now() - t;
    bare.stop();

    const helloOf = (i: number) => {
      const user = names[i % USERS]!;
      return { kind: (['desktop', 'app', 'tapi'] as const)[i % 3]!, user, token: tokens.get(user)! };
    };
    await warmUp(d, helloOf);
    for (let i = 0; i < 100 && (await ok(d, 'GET', '/api/v1/sessions', undefined)).total > 0; i++) await new Promise((r) => setTimeout(r, 20));
    const rssBefore = rssKiB(d.pid);
    const run = await openMany(d, SESSIONS, helloOf);
    clients.push(...run.clients);
    const openMs = run.ms;
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
      {
        name: 'open rate (hello → welcome, 200 at a time)',
        value: round(held / (openMs / 1000), 0),
        unit: 'sessions/s',
        reference: { name: 'bare ws server answering hello', value: round(SESSIONS / (bareRun.ms / 1000), 0) },
        ratio: round(held / (openMs / 1000) / (SESSIONS / (bareRun.ms / 1000)), 2),
        notes: 'token lookup, limit, license query and a last-activity write per session',
      },
      {
        name: 'daemon RSS per session',
        value: round((rssAfter - rssBefore) / held, 1),
        unit: 'KiB',
        reference: { name: 'bare ws server, per connection', value: round(bareRssPerSession, 1) },
        ratio: round((rssAfter - rssBefore) / held / bareRssPerSession, 2),
        notes: `VmRSS ${rssBefore} → ${rssAfter} KiB (no forced GC)`,
      },
      {
        name: `batch removal of clientbundle from ${USERS} users → last of ${held} sessions closed`,
        value: round(allClosedMs, 0),
        unit: 'ms',
        reference: { name: 'same batch call with no session open', value: round(revokeBare, 0) },
        ratio: round(allClosedMs / revokeBare, 2),
        notes: `API call answered in ${round(apiMs, 0)} ms; the daemon ended all sessions in ${daemonMs} ms (the rest is the clients' side on the same machine); ${wrong} closes with a code other than 4010`,
      },
      {
        name: `the same, against closing ${SESSIONS} sockets at once on a bare ws server`,
        value: round(allClosedMs, 0),
        unit: 'ms',
        reference: { name: 'bare ws server: error frame + close to every socket → last close received', value: round(bareCloseAllMs, 0) },
        ratio: round(allClosedMs / bareCloseAllMs, 2),
        notes: 'what the license decision and the registry add to the socket work itself',
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
