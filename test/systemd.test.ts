import { expect } from 'chai';
import { execFile } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, PBXD_ENV, PBXD_NODE_FLAGS, ROOT, sleep, TestDaemon } from './support/daemon.js';
import { FakeNotifySocket, freePort } from './support/systemd.js';
import { Daemon } from '../daemon/main.js';
import { defaults } from '../daemon/config.js';
import { silentLogger } from '../daemon/kernel/log.js';
import { Listener } from '../daemon/http/listener.js';

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(cmd, args, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr })),
  );
}

describe('systemd unit', function () {
  let dir: string;
  let unit: string;
  before(() => {
    // verify fails when ExecStart's program is missing: point it at the node running this test.
    dir = mkdtempSync(join(tmpdir(), 'pbxd-unit-'));
    unit = join(dir, 'pbxd.service');
    const text = readFileSync(join(ROOT, 'systemd/pbxd.service'), 'utf8');
    expect(text).to.match(/^ExecStart=\/usr\/bin\/node /m);
    writeFileSync(unit, text.replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('starts node as `npm start` and the test launcher do (same flags, same malloc setting)', () => {
    const text = readFileSync(join(ROOT, 'systemd/pbxd.service'), 'utf8');
    const env = Object.entries(PBXD_ENV).map(([k, v]) => `${k}=${v}`);
    expect(/^ExecStart=\/usr\/bin\/node (.*) \/opt\/pbxd\/dist\/daemon\/bin\/pbxd\.js /m.exec(text)?.[1]).to.equal(PBXD_NODE_FLAGS.join(' '));
    for (const e of env) expect(text).to.match(new RegExp(`^Environment=${e}$`, 'm'));
    const start = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start as string;
    expect(start).to.equal(`npm run build && ${env.join(' ')} node ${PBXD_NODE_FLAGS.join(' ')} dist/daemon/bin/pbxd.js`);
  });

  it('passes systemd-analyze verify', async () => {
    const r = await run('systemd-analyze', ['verify', unit]);
    expect(r.stderr.split('\n').filter((l) => l.includes('pbxd')), r.stderr).to.deep.equal([]);
    expect(r.code, r.stderr).to.equal(0);
  });

  it('is rated OK (exposure below 2.0) by systemd-analyze security', async () => {
    const r = await run('systemd-analyze', ['security', '--offline=true', '--no-pager', unit]);
    const m = /Overall exposure level for pbxd\.service: (\d+\.\d)/.exec(r.stdout + r.stderr);
    expect(m, r.stdout + r.stderr).to.not.equal(null);
    expect(Number(m![1])).to.be.below(2.0);
  });
});

describe('pbxd under systemd (fake notify socket)', function () {
  let notify: FakeNotifySocket;
  let d: TestDaemon;
  let dir: string;
  let apiAddress: string;
  let controlSocket: string;
  const WATCHDOG_USEC = 600_000; // pings every 300 ms

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pbxd-sd-'));
    apiAddress = `127.0.0.1:${await freePort()}`;
    controlSocket = join(dir, 'ctl.sock');
    notify = await FakeNotifySocket.start([apiAddress, controlSocket]);
    d = await TestDaemon.start({
      config: { http: { host: '127.0.0.1', port: Number(apiAddress.split(':')[1]) }, control: { socket: controlSocket } },
      env: { NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: String(WATCHDOG_USEC) },
    });
  });
  after(async () => {
    await d.dispose();
    notify.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends READY=1 once, only when the API and the control socket accept connections', async () => {
    const [ready] = await notify.waitFor('READY');
    expect(ready!.connect).to.deep.equal({ [apiAddress]: 'ok', [controlSocket]: 'ok' });
    expect(ready!.fields.STATUS).to.match(/^entry: No license is installed/);
    expect(notify.records.indexOf(ready!), 'READY is the first message').to.equal(notify.records.findIndex((r) => !r.fields.BARRIER));
    expect(d.listeners).to.include({ api: apiAddress, control: controlSocket }); // features add their own listeners (provisioning)
    await sleep(200);
    expect(notify.with('READY')).to.have.length(1);
  });

  it('pings WATCHDOG=1 at half of WATCHDOG_USEC', async () => {
    const before = notify.with('WATCHDOG').length;
    const pings = (await notify.waitFor('WATCHDOG', '1', before + 6)).slice(before);
    const gaps = pings.slice(1).map((p, i) => p.at - pings[i]!.at).sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)]!;
    // 300 ms expected; generous bounds for a loaded 2-core machine, yet far from 600 ms (the full period).
    expect(median).to.be.within(200, 450);
  });

  it('answers /healthz, /readyz and (from loopback) /metrics without a token', async () => {
    const h = await d.request('GET', '/healthz', { auth: false });
    expect(h.status).to.equal(200);
    const r = await d.request('GET', '/readyz', { auth: false });
    expect(r.status).to.equal(200);
    expect(r.json.checks).to.deep.equal({ 'database-file': { ok: true }, 'database-writable': { ok: true }, 'database-schema': { ok: true }, listeners: { ok: true }, startup: { ok: true } });
    const m = await d.request('GET', '/metrics', { auth: false });
    expect(m.status).to.equal(200);
    expect(m.headers.get('content-type')).to.equal('text/plain; version=0.0.4; charset=utf-8');
  });

  it('sends STOPPING=1 first on SIGTERM, then exits 0', async () => {
    const code = await d.stop();
    expect(code).to.equal(0);
    await notify.waitFor('STOPPING');
    const stopLine = d.output.findIndex((l) => l.startsWith('<5>stopped'));
    expect(stopLine).to.be.greaterThan(-1);
  });
});

describe('READY waits for a slow listener', function () {
  // The spawned systemd-notify takes longer to send than a listen() takes, so only a
  // listener that is slow to come up shows whether READY really waits for it.
  const original = Listener.prototype.listenUnix;
  let dir: string;
  let notify: FakeNotifySocket;
  before(() => {
    Listener.prototype.listenUnix = async function (this: Listener, path: string) {
      await sleep(400);
      return original.call(this, path);
    };
  });
  after(() => {
    Listener.prototype.listenUnix = original;
    notify?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends READY=1 only after the control socket accepts connections', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pbxd-sd-'));
    const socket = join(dir, 'ctl.sock');
    notify = await FakeNotifySocket.start([socket]);
    const config = { ...defaults(dir), http: { ...defaults(dir).http, host: '127.0.0.1', port: 0 }, control: { socket }, admin: { ...defaults(dir).admin, initialPassword: ADMIN_PASSWORD, sessionHours: 1, loginFailuresPerMinute: 5 } };
    const daemon = new Daemon({ config, file: null, development: true }, { log: silentLogger, env: { ...process.env, NOTIFY_SOCKET: notify.path } });
    await daemon.start();
    try {
      const [ready] = await notify.waitFor('READY');
      expect(ready!.connect).to.deep.equal({ [socket]: 'ok' });
    } finally {
      await daemon.stop();
    }
  });
});

describe('SIGHUP reload', function () {
  let d: TestDaemon;
  let notify: FakeNotifySocket;
  before(async () => {
    notify = await FakeNotifySocket.start();
    d = await TestDaemon.start({ config: { log: { level: 'info' } }, env: { NOTIFY_SOCKET: notify.path } });
  });
  after(async () => {
    await d.dispose();
    notify.close();
  });

  const rewrite = (change: (c: any) => void) => {
    const c = JSON.parse(readFileSync(d.configFile, 'utf8'));
    change(c);
    writeFileSync(d.configFile, JSON.stringify(c));
  };
  const waitLine = async (re: RegExp, from: number) => {
    for (let i = 0; i < 250; i++) {
      const hit = d.output.slice(from).find((l) => re.test(l));
      if (hit) return hit;
      await sleep(20);
    }
    throw new Error(`no line ${re} in:\n${d.output.slice(from).join('\n')}`);
  };

  it('applies a changed log level at once and names what needs a restart', async () => {
    await d.request('GET', '/api/v1/status');
    expect(d.output.some((l) => l.startsWith('<7>')), 'no debug lines at level info').to.equal(false);

    const port = Number(d.apiUrl.split(':').pop());
    rewrite((c) => {
      c.log.level = 'debug';
      c.http.port = port + 1;
    });
    const from = d.output.length;
    process.kill(d.pid, 'SIGHUP');
    const line = await waitLine(/configuration reloaded/, from);
    expect(line).to.match(/^<5>configuration reloaded .*applied=\["log\.level"\] restartRequired=\["http\.port"\]/);

    const r = await d.request('GET', '/api/v1/status');
    expect(r.status, 'still on the old port: the port needs a restart').to.equal(200);
    await waitLine(/^<7>http request method=GET path=\/api\/v1\/status status=200/, from);
    expect(await notify.waitFor('RELOADING')).to.have.length(1);
    await notify.waitFor('READY', '1', 2); // READY=1 again ends the reload for systemd
  });

  it('refuses an invalid configuration and keeps the running one', async () => {
    rewrite((c) => (c.log.level = 'loud'));
    const from = d.output.length;
    process.kill(d.pid, 'SIGHUP');
    const line = await waitLine(/configuration reload refused/, from);
    expect(line).to.match(/^<3>.*log\.level: must be one of/);
    await d.request('GET', '/api/v1/status');
    await waitLine(/^<7>http request/, from); // still at debug
  });
});

describe('SIGTERM under load', function () {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(async () => d.dispose());

  /** A login whose body arrives in pieces over ~1.2 s: in flight for the whole time. */
  function slowLogin(url: string): Promise<{ status: number; body: string }> {
    const body = JSON.stringify({ name: 'admin', password: ADMIN_PASSWORD, token: true });
    return new Promise((resolve, reject) => {
      const req = http.request(url + '/api/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      });
      req.on('error', reject);
      const parts = [body.slice(0, 10), body.slice(10, 30), body.slice(30)];
      parts.forEach((p, i) => setTimeout(() => (i === parts.length - 1 ? req.end(p) : req.write(p)), i * 600));
    });
  }

  /** Requests the API listener has taken on: answering now (metrics over the control socket) or answered (access log). */
  async function dispatched(): Promise<{ inFlight: number; total: number }> {
    const text = await new Promise<string>((resolve, reject) =>
      http
        .get({ socketPath: d.socketPath, path: '/metrics' }, (res) => {
          let t = '';
          res.on('data', (c) => (t += c));
          res.on('end', () => resolve(t));
        })
        .on('error', reject),
    );
    const inFlight = Number(/^pbxd_http_requests_in_flight\{listener="api"\} (\d+)$/m.exec(text)![1]);
    const answered = d.output.filter((l) => /^<7>http request method=POST path=\/api\/v1\/auth\/login /.test(l)).length;
    return { inFlight, total: inFlight + answered };
  }

  it('finishes every request in flight with a complete answer and exits 0', async () => {
    const url = d.apiUrl;
    const slow = Array.from({ length: 5 }, () => slowLogin(url));
    const logins = Array.from({ length: 20 }, () =>
      fetch(url + '/api/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'admin', password: ADMIN_PASSWORD, token: true }) }).then(
        async (r) => ({ status: r.status, body: await r.text() }),
      ),
    );
    // SIGTERM once the daemon has taken on all 25 (requests arriving after it are answered 503 by design).
    let seen = await dispatched();
    while (seen.total < 25) {
      await sleep(10);
      seen = await dispatched();
    }
    expect(seen.inFlight, 'the slow uploads are still in flight').to.be.at.least(5);
    const exit = d.stop();
    const answers = await Promise.all([...slow, ...logins]);
    for (const a of answers) {
      expect(a.status, a.body).to.equal(200);
      expect(JSON.parse(a.body).token).to.be.a('string').with.length.above(20);
    }
    expect(await exit).to.equal(0);
    expect(d.output.some((l) => l.startsWith('<5>stopping signal=SIGTERM'))).to.equal(true);
  });
});
