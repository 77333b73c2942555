/**
 * Socket.IO fan-out: the time from a change made through the API to its event
 * arriving at 200 and 1,000 connected UI sockets (p50 and max), next to a
 * bare socket.io server broadcasting the same payload to the same number of
 * clients. The reference server runs in a process of its own, as the daemon
 * does (in the bench's process it would share one thread with 1,000 clients
 * and look slower than it is); the clients live in the bench's process for
 * both, so both pay the same client-side cost.
 *
 * Ratios are reference / value (lower is better here), as bench/report.ts says:
 * above 1 the daemon does better than its reference.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { io as connect, type Socket } from 'socket.io-client';
import type { Bench, BenchRow } from './report.js';
import { TestDaemon, percentile, round } from './support.js';
import { sleep } from '../test/support/daemon.js';

const SIZES = [200, 1000];
const ROUNDS = 10;
const EVENT = 'users.changed';

/** Open n websocket connections (each its own, not multiplexed), a batch at a time. */
async function openSockets(url: string, n: number, auth?: { token: string }, waitFor = 'connect'): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = Array.from({ length: Math.min(50, n - i) }, () => connect(url, { transports: ['websocket'], forceNew: true, reconnection: false, auth }));
    await Promise.all(
      batch.map(
        (s) =>
          new Promise<void>((resolve, reject) => {
            s.once(waitFor, () => resolve());
            s.once('connect_error', (e) => reject(new Error(`socket refused: ${e.message}`)));
          }),
      ),
    );
    sockets.push(...batch);
  }
  return sockets;
}

/**
 * For each round: make the change and collect each socket's arrival of EVENT.
 * `sinceChange` gives the time since the change itself for a payload (the
 * daemon's events carry the wall-clock time of their commit); by default it is
 * the time since the change was started here.
 */
async function rounds(
  sockets: Socket[],
  change: (round: number) => Promise<void>,
  sinceChange?: (payload: unknown) => number,
): Promise<{ all: number[]; maxPerRound: number[]; fromRequest: number[]; payload: unknown }> {
  const all: number[] = [];
  const fromRequest: number[] = [];
  const maxPerRound: number[] = [];
  let payload: unknown = null;
  for (let r = 0; r < ROUNDS; r++) {
    let t0 = 0;
    const arrivals: number[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${arrivals.length} of ${sockets.length} sockets got ${EVENT} within 15 s`)), 15_000);
      for (const s of sockets)
        s.once(EVENT, (data: unknown) => {
          const sinceStart = performance.now() - t0;
          fromRequest.push(sinceStart);
          arrivals.push(sinceChange ? sinceChange(data) : sinceStart);
          payload ??= data;
          if (arrivals.length === sockets.length) (clearTimeout(timer), resolve());
        });
    });
    t0 = performance.now();
    await change(r);
    await done;
    all.push(...arrivals);
    maxPerRound.push(Math.max(...arrivals));
    // Let the status message that follows a change pass before the next round.
    await sleep(300);
  }
  const sort = (xs: number[]) => xs.sort((a, b) => a - b);
  return { all: sort(all), maxPerRound: sort(maxPerRound), fromRequest: sort(fromRequest), payload };
}

/** The daemon's live events are lists of { at, data }; `at` is the wall-clock time of the commit. */
const sinceCommit = (payload: unknown) => Date.now() - Date.parse((payload as Array<{ at: string }>)[0]!.at);

const close = (sockets: Socket[]) => sockets.forEach((s) => s.disconnect());

export const bench: Bench = async () => {
  const rows: BenchRow[] = [];
  const d = await TestDaemon.start({ config: { log: { level: 'warn' } } });
  try {
    await d.installLicense({ quantities: { users: 10_000, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: 100 } });
    const token = await d.adminToken();
    for (const n of SIZES) {
      // The daemon greets each socket with a status snapshot: wait for it so it does not overlap the first round.
      const sockets = await openSockets(d.apiUrl, n, { token }, 'status');
      await sleep(500);
      let bare: Awaited<ReturnType<typeof rounds>>;
      const ours = await rounds(sockets, async (r) => {
        const res = await d.request('POST', '/api/v1/users', { body: { userName: `fan${n}x${r}` } });
        if (res.status !== 201) throw new Error(`registration failed: ${res.text.slice(0, 200)}`);
      }, sinceCommit);
      close(sockets);

      // The reference: a bare socket.io server, same number of clients, the same payload the daemon sent.
      const bareServer = fork(join(import.meta.dirname, 'bare-socketio.js'), { stdio: 'ignore' } as never);
      try {
        const port = await new Promise<number>((resolve) => bareServer.once('message', (m: { port: number }) => resolve(m.port)));
        const clients = await openSockets(`http://127.0.0.1:${port}`, n);
        await sleep(500);
        bare = await rounds(clients, async () => void bareServer.send({ event: EVENT, payload: ours.payload }));
        close(clients);
      } finally {
        bareServer.kill();
      }

      const p50 = percentile(ours.all, 50);
      const refP50 = percentile(bare.all, 50);
      const max = percentile(ours.maxPerRound, 50);
      const refMax = percentile(bare.maxPerRound, 50);
      rows.push(
        {
          name: `fan-out to ${n} UI sockets, p50 arrival`,
          value: round(p50),
          unit: 'ms',
          reference: { name: `bare socket.io broadcast to ${n} clients`, value: round(refP50) },
          ratio: round(refP50 / p50, 2),
          notes: `from the commit of a registration (its event's time) to arrival, ${ROUNDS} rounds; from sending the POST: p50 ${round(percentile(ours.fromRequest, 50))} ms (a durable commit under load included)`,
        },
        {
          name: `fan-out to ${n} UI sockets, last arrival`,
          value: round(max),
          unit: 'ms',
          reference: { name: `bare socket.io broadcast to ${n} clients`, value: round(refMax) },
          ratio: round(refMax / max, 2),
          ...(n === 1000 ? { target: 'within 1.2× the bare time (ratio ≥ 0.83)', met: max <= 1.2 * refMax } : {}),
          notes: `median over ${ROUNDS} rounds of the last socket's arrival (worst round ${round(ours.maxPerRound.at(-1)!)} ms, bare ${round(bare.maxPerRound.at(-1)!)} ms); ms resolution`,
        },
      );
    }
  } finally {
    await d.dispose();
  }
  return rows;
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await bench());
  process.exit(0);
}
