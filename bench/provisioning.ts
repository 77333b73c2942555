/**
 * Boot storm: N distinct phones (default 2,000; BENCH_PHONES) each run their
 * vendor's full boot sequence against the real daemon, 200 phones at a time
 * (BENCH_CONCURRENCY), a new connection per request, as after a power cut.
 * The same requests then go to nginx (Debian package) serving the very bytes
 * the daemon answered, as static files, on the same machine: the reference.
 *
 * The phones are assigned but hold no license yet, so each Cisco phone's
 * first configuration request also claims its support license (a write).
 * The daemon runs with the site key required and the device lock on: phones
 * given a URL fetch under /<key>/, and each is locked at its first fetch.
 *
 * Then the same boot over HTTPS (a new TLS connection per request, the
 * appliance's certificate), against nginx serving the same bytes with the same
 * certificate and key.
 *
 * Run alone: `node dist/bench/provisioning.js`.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sqlite3 from 'sqlite3';
import type { Bench, BenchRow } from './report.js';
import { TestDaemon } from '../test/support/daemon.js';
import { siteKey } from '../test/support/provisioning.js';

interface Step {
  path: string;
  headers: Record<string, string>;
  expect: number;
}

interface Phone {
  mac: string;
  vendor: 'cisco' | 'gigaset' | 'yealink' | 'snom';
  model: string;
  steps: Step[];
}

/** The phones of the storm: mostly Cisco enterprise desk phones, some Cisco MPP and DECT bases; those given a URL fetch under /<key>/. */
function makePhones(n: number, key = ''): Phone[] {
  const k = key ? `/${key}` : '';
  const phones: Phone[] = [];
  for (let i = 0; i < n; i++) {
    const suffix = i.toString(16).padStart(6, '0');
    const kind = i % 10;
    if (kind < 6) {
      const mac = `00562B${suffix}`.toUpperCase();
      phones.push({
        mac, vendor: 'cisco', model: 'CP-8845',
        steps: [
          { path: `/CTLSEP${mac}.tlv`, headers: {}, expect: 404 },
          { path: `/ITLSEP${mac}.tlv`, headers: {}, expect: 404 },
          { path: '/ITLFile.tlv', headers: {}, expect: 404 },
          { path: `/SEP${mac}.cnf.xml.sgn`, headers: {}, expect: 404 },
          { path: `/SEP${mac}.cnf.xml`, headers: {}, expect: 200 },
          { path: '/dialplan.xml', headers: {}, expect: 200 },
          { path: '/softkeys.xml', headers: {}, expect: 200 },
          { path: '/DistinctiveRingList.xml', headers: {}, expect: 200 },
        ],
      });
    } else if (kind === 6) {
      const mac = `00562c${suffix}`;
      phones.push({ mac, vendor: 'cisco', model: 'CP-8841-3PCC', steps: [{ path: `${k}/${mac}.xml`, headers: { 'user-agent': `Cisco-CP-8841-3PCC/11.3.7_1234 (${mac})` }, expect: 200 }] });
    } else if (kind === 7) {
      const mac = `7C2F80${suffix}`.toUpperCase();
      phones.push({ mac, vendor: 'gigaset', model: 'N870 IP PRO', steps: [{ path: `${k}/${mac.toLowerCase()}.xml`, headers: { 'user-agent': `Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;${mac}` }, expect: 200 }] });
    } else if (kind === 8) {
      const mac = `805ec0${suffix}`;
      const ua = `Yealink W70B 146.85.0.20 ${mac.match(/../g)!.join(':')}`;
      phones.push({ mac, vendor: 'yealink', model: 'W70B', steps: [{ path: `${k}/y000000000146.cfg`, headers: { 'user-agent': ua }, expect: 200 }, { path: `${k}/${mac}.cfg`, headers: { 'user-agent': ua }, expect: 200 }] });
    } else {
      const mac = `000413${suffix}`.toUpperCase();
      const ua = { 'user-agent': `Mozilla/4.0 (compatible; Snom M900 05.20.0001 ${mac.toLowerCase()})` };
      phones.push({
        mac, vendor: 'snom', model: 'M900',
        steps: [{ path: `${k}/snomM900.htm`, headers: ua, expect: 200 }, { path: `${k}/snomM900-${mac}.htm`, headers: ua, expect: 200 }, { path: `${k}/${mac}.xml`, headers: ua, expect: 200 }],
      });
    }
  }
  return phones;
}

/**
 * wrk drives the storm: a C load generator, so the client does not bound the
 * figures (a Node client tops out near nginx's speed and its own event loop
 * adds the latency). Each request carries "Connection: close": a new
 * connection per request. The request list is dealt out to wrk's threads in
 * order; each thread stops when its share is answered.
 */
const WRK_SCRIPT = `
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  local nthreads = tonumber(args[2])
  reqs = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == id then
      local path, ua = line:match("^([^\t]*)\t?(.*)$")
      local headers = { ["Connection"] = "close" }
      if ua ~= "" then headers["User-Agent"] = ua end
      reqs[#reqs + 1] = wrk.format("GET", path, headers)
    end
    i = i + 1
  end
  pos = 0
  answered = 0
  ok = 0
  missing = 0
  other = 0
end
local function now_ns()
  local f = io.popen("date +%s%N")
  local t = tonumber(f:read("*l"))
  f:close()
  return t
end
function request()
  if pos == 0 then started = now_ns() end
  pos = pos + 1
  if pos > #reqs then return reqs[#reqs] end
  return reqs[pos]
end
function response(status, headers, body)
  if answered < #reqs then
    answered = answered + 1
    if status == 200 then ok = ok + 1 elseif status == 404 then missing = missing + 1 else other = other + 1 end
  end
  if answered == #reqs and not finished then
    finished = now_ns()
    io.write("THREAD_DONE\\n")
    io.flush()
    wrk.thread:stop()
  end
end
function done(summary, latency, requests)
  local a, o, m, x = 0, 0, 0, 0
  local first, last = nil, 0
  for _, t in ipairs(threads) do
    a = a + t:get("answered"); o = o + t:get("ok"); m = m + t:get("missing"); x = x + t:get("other")
    local s, f = t:get("started"), t:get("finished")
    if s and (not first or s < first) then first = s end
    if f and f > last then last = f end
  end
  -- wrk's own duration is always -d; the storm ends when the last thread has its answers.
  local us = (first and last > first) and math.floor((last - first) / 1000) or summary.duration
  io.write(string.format('RESULT {"answered":%d,"ok":%d,"missing":%d,"other":%d,"socketErrors":%d,"us":%d,"p50":%f,"p99":%f}\\n',
    a, o, m, x, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, us,
    latency:percentile(50), latency:percentile(99)))
end
`;

/**
 * The same warm-up for every server measured: MAC-less files only (no device
 * is touched, nothing is claimed), so each runs its request path warm.
 */
const WARM_UP: Phone[] = Array.from({ length: 1000 }, (): Phone => ({
  mac: '', vendor: 'cisco' as const, model: '',
  steps: [
    { path: '/ITLFile.tlv', headers: {}, expect: 404 },
    { path: '/dialplan.xml', headers: {}, expect: 200 },
    { path: '/y000000000146.cfg', headers: { 'user-agent': 'Yealink W70B 146.85.0.20' }, expect: 200 },
  ],
}));

interface Summary {
  requests: number;
  /** CPU time (user + system) the server process spent per request of the storm, in µs; NaN if unknown. */
  cpuUs: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

function wrkBinary(): string {
  if (!existsSync('/usr/bin/wrk')) spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'wrk'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (!existsSync('/usr/bin/wrk')) throw new Error('wrk is needed for the boot storm (apt-get install wrk)');
  return '/usr/bin/wrk';
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc (Linux,
 * 100 ticks a second): unlike requests/s it hardly moves when other work
 * shares the machine, so it compares servers measured on a busy host.
 */
function cpuSeconds(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

async function storm(dir: string, address: string, phones: Phone[], concurrency: number, pid?: number, warmUp = true, scheme: 'http' | 'https' = 'http'): Promise<Summary> {
  if (warmUp) await storm(dir, address, WARM_UP, concurrency, undefined, false, scheme);
  const cpu0 = cpuSeconds(pid);
  const list = join(dir, 'requests.tsv');
  const script = join(dir, 'storm.lua');
  writeFileSync(list, phones.flatMap((p) => p.steps.map((s) => `${s.path}\t${s.headers['user-agent'] ?? ''}`)).join('\n') + '\n');
  writeFileSync(script, WRK_SCRIPT);
  const expected = { ok: 0, missing: 0 };
  for (const p of phones) for (const s of p.steps) s.expect === 200 ? expected.ok++ : expected.missing++;
  const threads = 2;
  // wrk's threads stop when their share is answered, but wrk itself sleeps for -d;
  // SIGINT (once every thread said THREAD_DONE) ends that sleep and it reports at once.
  const seconds = Number(process.env.BENCH_WRK_SECONDS ?? 120);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(wrkBinary(), ['-t', String(threads), '-c', String(concurrency), '-d', `${seconds}s`, '--timeout', '10s', '-s', script, `${scheme}://${address}/`, '--', list, String(threads)]);
    let text = '';
    child.stdout.on('data', (c) => {
      text += c;
      if (text.split('THREAD_DONE').length - 1 === threads) child.kill('SIGINT');
    });
    child.stderr.on('data', (c) => (text += c));
    child.on('error', reject);
    child.on('exit', () => resolve(text));
  });
  const m = /RESULT (\{.*\})/.exec(out);
  if (!m) throw new Error(`wrk gave no result:\n${out}`);
  if (process.env.BENCH_DEBUG) console.log(out);
  const r = JSON.parse(m[1]!) as { answered: number; ok: number; missing: number; other: number; socketErrors: number; us: number; p50: number; p99: number };
  const total = expected.ok + expected.missing;
  // Socket errors, timeouts, unanswered requests and answers other than 200/404 (e.g. 503) are errors.
  // Which request got which status is checked by `verify` (wrk cannot tell them apart).
  const errors = r.other + r.socketErrors + Math.max(0, total - r.answered);
  return { requests: r.answered, cpuUs: ((cpuSeconds(pid) - cpu0) / r.answered) * 1e6, rps: r.answered / (r.us / 1e6), p50: r.p50 / 1000, p99: r.p99 / 1000, errors };
}

/**
 * After the storm, every step once more: each must get the status its step
 * expects; the 200 bodies are kept (nginx serves the very same bytes).
 */
async function verify(address: string, phones: Phone[], tls = false): Promise<{ bodies: Map<string, Buffer>; wrong: number }> {
  const i = address.lastIndexOf(':');
  const [host, port] = [address.slice(0, i), Number(address.slice(i + 1))];
  const steps = phones.flatMap((p) => p.steps);
  const bodies = new Map<string, Buffer>();
  let wrong = 0;
  let next = 0;
  const worker = async () => {
    while (next < steps.length) {
      const step = steps[next++]!;
      const r = await new Promise<{ status: number; body: Buffer }>((resolve) => {
        (tls ? https : http).get({ host, port, path: step.path, headers: step.headers, ...(tls ? { rejectUnauthorized: false } : {}) }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        }).on('error', () => resolve({ status: 0, body: Buffer.alloc(0) }));
      });
      if (r.status !== step.expect) wrong++;
      else if (r.status === 200) bodies.set(step.path, r.body);
    }
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  return { bodies, wrong };
}

/** The ceiling of the platform: a bare node:http (or node:https, same certificate) server answering the same bytes from memory. */
async function startBareNode(dir: string, bodies: Map<string, Buffer>, tls?: { cert: string; key: string }): Promise<{ address: string; child: ChildProcess }> {
  const file = join(dir, tls ? 'bodies-tls.json' : 'bodies.json');
  writeFileSync(file, JSON.stringify([...bodies].map(([p, b]) => [p, b.toString('base64')])));
  const port = await freePort();
  const code = `
    const http = require(${JSON.stringify(tls ? 'node:https' : 'node:http')});
    const tls = ${JSON.stringify(tls ?? null)};
    const files = new Map(JSON.parse(require('node:fs').readFileSync(${JSON.stringify(file)}, 'utf8')).map(([p, b]) => [p, Buffer.from(b, 'base64').toString()]));
    const missing = 'not found';
    (tls ? (h) => http.createServer({ cert: require('node:fs').readFileSync(tls.cert), key: require('node:fs').readFileSync(tls.key) }, h) : (h) => http.createServer(h))((req, res) => {
      const body = files.get(req.url) ?? missing;
      res.writeHead(body === missing ? 404 : 200, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }).listen(${port}, '127.0.0.1');`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  await waitForPort(port, child);
  return { address: `127.0.0.1:${port}`, child };
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error(`nothing listens on port ${port}`);
}

/** The TLS version a server negotiates with a default client: the two sides of a comparison must speak the same one. */
function negotiated(address: string): Promise<string> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const s = tls.connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)), rejectUnauthorized: false }, () => {
      resolve(s.getProtocol() ?? 'unknown');
      s.destroy();
    });
    s.on('error', (e) => resolve(`none (${e.message})`));
  });
}

function run(db: sqlite3.Database, sql: string, params: unknown[] = []): Promise<void> {
  return new Promise((resolve, reject) => db.run(sql, params, (e) => (e ? reject(e) : resolve())));
}

/** Users and assigned (not yet licensed) devices, written straight into the stopped daemon's database. */
async function preRegister(dataDir: string, phones: Phone[]): Promise<void> {
  const db = new sqlite3.Database(join(dataDir, 'pbxd.db'));
  const now = new Date().toISOString();
  await run(db, 'BEGIN');
  for (const [i, p] of phones.entries()) {
    const user = `bench${i}`;
    await run(db, "INSERT INTO users (user_name, first_name, last_name, extension, status, created_at, updated_at) VALUES (?, 'Bench', ?, ?, 'active', ?, ?)", [user, String(i), String(10000 + i), now, now]);
    await run(db, "INSERT INTO devices (mac, vendor, model, source, created_at, user_name, display_name, sip_user, sip_password) VALUES (?, ?, ?, 'admin', ?, ?, ?, ?, ?)", [
      p.mac.toLowerCase(), p.vendor, p.model, now, user, `Bench ${i}`, String(10000 + i), randomBytes(18).toString('base64url'),
    ]);
  }
  await run(db, 'COMMIT');
  await new Promise<void>((r) => db.close(() => r()));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function nginxBinary(): string | null {
  for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx']) if (existsSync(p)) return p;
  // The reference is the Debian package; install it when missing (root on these machines).
  spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'nginx'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : null;
}

/**
 * nginx on a loopback port with its own prefix, serving `bodies` as files (over
 * TLS with `tls`: the daemon's certificate and key, and the daemon's protocols:
 * nginx 1.22's built-in default stops at TLS 1.2, whose resumption costs both
 * sides less than TLS 1.3's, so it would not be the same work).
 */
async function startNginx(bin: string, dir: string, bodies: Map<string, Buffer>, tls?: { cert: string; key: string }): Promise<{ address: string; child: ChildProcess }> {
  const www = join(dir, tls ? 'www-tls' : 'www');
  dir = join(dir, tls ? 'nginx-tls' : 'nginx');
  mkdirSync(dir, { recursive: true });
  for (const [path, body] of bodies) {
    mkdirSync(dirname(join(www, path)), { recursive: true });
    writeFileSync(join(www, path), body);
  }
  const port = await freePort();
  for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, t), { recursive: true });
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes auto;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type text/xml;
  sendfile on;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port} backlog=4096${tls ? ` ssl;\n    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_certificate ${tls.cert};\n    ssl_certificate_key ${tls.key}` : ''};
    root ${www};
    autoindex off;
  }
}
`);
  const child = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  await waitForPort(port, child);
  return { address: `127.0.0.1:${port}`, child };
}

/**
 * BENCH_PROFILE=<dir>: the daemon writes a CPU profile of its whole run there
 * (Node 20 refuses --cpu-prof in NODE_OPTIONS, so a preloaded inspector session does it).
 */
function profiler(work: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(work, 'profile.cjs');
  writeFileSync(file, `
    const s = new (require('node:inspector').Session)();
    s.connect();
    s.post('Profiler.enable');
    s.post('Profiler.start');
    process.on('exit', () => s.post('Profiler.stop', (e, r) => require('node:fs').writeFileSync(${JSON.stringify(dir)} + '/pbxd-' + process.pid + '.cpuprofile', JSON.stringify(r.profile))));`);
  return file;
}

/** The median of a few figures (the middle one; of two, their mean). */
function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** The figures of several rounds of one server's storm, as one: medians, errors summed. */
function overRounds(rounds: Summary[]): Summary & { each: Summary[] } {
  return {
    requests: median(rounds.map((r) => r.requests)), cpuUs: median(rounds.map((r) => r.cpuUs)), rps: median(rounds.map((r) => r.rps)),
    p50: median(rounds.map((r) => r.p50)), p99: median(rounds.map((r) => r.p99)), errors: rounds.reduce((n, r) => n + r.errors, 0), each: rounds,
  };
}

const perRound = (s: { each: Summary[] }): string => s.each.map((r) => Math.round(r.rps)).join(', ');

/**
 * The storms run in rounds (BENCH_ROUNDS, default 3): in each, the daemon
 * starts afresh from the same database (phones assigned, none licensed yet,
 * so every round is a first boot that claims the Cisco licenses), then bare
 * node and nginx take the same storm. Figures are the medians of the rounds:
 * on a shared machine the load drifts within a minute, and a ratio of two
 * single runs minutes apart measures the drift as much as the servers.
 */
export const bench: Bench = async () => {
  const n = Number(process.env.BENCH_PHONES ?? 2000);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 200);
  const roundsWanted = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
  // The site key and the device lock on (the appliance's settings); credentials over TLS off so the HTTP storm is served.
  const ports = { host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0, missesPerMinute: 1000, autoRecordPerSource: 50, requireKey: true, deviceLock: true };
  const config = { provisioning: ports, log: { level: 'notice' }, dev: { clockControl: false } };
  const work = mkdtempSync(join(tmpdir(), 'pbxd-bench-prov-'));
  chmodSync(work, 0o755); // nginx workers run as an unprivileged user and read www/ in here
  const children: ChildProcess[] = [];
  let snapshot = '';

  try {
    const prepared = await TestDaemon.start({ config });
    snapshot = prepared.dataDir;
    const key = await siteKey(prepared);
    const phones = makePhones(n, key);
    const ciscoPhones = phones.filter((p) => p.vendor === 'cisco').length;
    await prepared.installLicense({ quantities: { users: n + 10, 'devices.cisco': ciscoPhones, 'devices.unify': 10 } });
    await prepared.stop();
    await preRegister(snapshot, phones);

    const tls = { cert: join(work, 'server.crt'), key: join(work, 'server.key') };
    const bin = nginxBinary();
    if (!bin) console.warn('bench provisioning: nginx is NOT installed (apt-get install -y nginx) and could not be installed: the storms run WITHOUT their nginx reference, no ratio is checked');
    const mine: Summary[] = [];
    const mineTls: Summary[] = [];
    const bare: Summary[] = [];
    const bareTls: Summary[] = [];
    const ref: Summary[] = [];
    const refTls: Summary[] = [];
    const licensed: number[] = [];
    let checked = { bodies: new Map<string, Buffer>(), wrong: 0 };
    let checkedTls = { bodies: new Map<string, Buffer>(), wrong: 0 };
    let locked = 0;
    let protocolMine = '';
    let protocolNginx = '';
    let others: { nginx: string | null; nginxTls: string | null; bare: string; bareTls: string; bareChild: ChildProcess; bareTlsChild: ChildProcess } | null = null;

    for (let round = 0; round < roundsWanted; round++) {
      const first = round === 0;
      const dataDir = mkdtempSync(join(tmpdir(), 'pbxd-bench-prov-data-'));
      cpSync(snapshot, dataDir, { recursive: true });
      const profile: Record<string, string> = first && process.env.BENCH_PROFILE ? { NODE_OPTIONS: `--require ${profiler(work, process.env.BENCH_PROFILE)}` } : {};
      const d = await TestDaemon.start({ config, dataDir, env: profile });
      try {
        mine.push(await storm(work, d.listeners.provisioning_http!, phones, concurrency, d['child'].pid));
        licensed.push((await d.status()).codes.find((c: { code: string }) => c.code === 'devices.cisco').used);
        if (first) checked = await verify(d.listeners.provisioning_http!, phones);
        // The same boot over HTTPS: every phone already licensed and locked (a reboot after a power cut).
        if (first) protocolMine = await negotiated(d.listeners.provisioning_https!);
        mineTls.push(await storm(work, d.listeners.provisioning_https!, phones, concurrency, d['child'].pid, true, 'https'));
        if (first) {
          checkedTls = await verify(d.listeners.provisioning_https!, phones, true);
          locked = (await Promise.all(phones.filter((_, i) => i % 50 === 0).map(async (p) => (await d.request('GET', `/api/v1/devices/${p.mac}/lock`)).json.ip === '127.0.0.1'))).filter(Boolean).length;
          copyFileSync(join(dataDir, 'tls', 'server.crt'), tls.cert);
          copyFileSync(join(dataDir, 'tls', 'server.key'), tls.key);
        }
      } finally {
        await d.stop();
        rmSync(dataDir, { recursive: true, force: true });
      }

      if (!others) {
        // The references serve the very bytes the daemon answered in the first round, and stay up for every round.
        const ng = bin ? await startNginx(bin, work, checked.bodies) : null;
        const ngTls = bin ? await startNginx(bin, work, checkedTls.bodies, tls) : null;
        const b = await startBareNode(work, checked.bodies);
        const bTls = await startBareNode(work, checkedTls.bodies, tls);
        children.push(...[ng, ngTls, b, bTls].flatMap((x) => (x ? [x.child] : [])));
        others = { nginx: ng?.address ?? null, nginxTls: ngTls?.address ?? null, bare: b.address, bareTls: bTls.address, bareChild: b.child, bareTlsChild: bTls.child };
        if (others.nginxTls) protocolNginx = await negotiated(others.nginxTls);
      }
      bare.push(await storm(work, others.bare, phones, concurrency, others.bareChild.pid, first));
      if (others.nginx) ref.push(await storm(work, others.nginx, phones, concurrency, undefined, first));
      bareTls.push(await storm(work, others.bareTls, phones, concurrency, others.bareTlsChild.pid, first, 'https'));
      if (others.nginxTls) refTls.push(await storm(work, others.nginxTls, phones, concurrency, undefined, first, 'https'));
    }

    const m = overRounds(mine);
    const mT = overRounds(mineTls);
    const ceiling = overRounds(bare);
    const ceilingTls = overRounds(bareTls);
    const r = ref.length ? overRounds(ref) : null;
    const rT = refTls.length ? overRounds(refTls) : null;
    const allLicensed = licensed.every((l) => l === ciscoPhones);
    const rounds = `median of ${roundsWanted} rounds`;
    const notes = `${n} phones, ${m.requests} requests, concurrency ${concurrency}, new connection per request (wrk), each server warmed up with the same 3,000 MAC-less requests; each round a first boot: ${licensed.join(', ')} of ${ciscoPhones} Cisco licenses claimed during the storm; site key required, device lock on; ${rounds} (daemon: ${perRound(m)} req/s${r ? `; nginx: ${perRound(r)}` : ''}); daemon CPU ${m.cpuUs.toFixed(0)} µs per request`;
    const noNginx = 'nginx NOT installed: no reference';
    const tlsRows: BenchRow[] = [
      {
        name: 'provisioning HTTPS boot storm throughput', value: Math.round(mT.rps), unit: 'req/s', ...(rT ? { reference: { name: 'nginx HTTPS, same certificate', value: Math.round(rT.rps) } } : {}),
        // Only the same protocol on both sides is a comparison.
        ...(rT ? { ratio: +(mT.rps / rT.rps).toFixed(2), target: '≥ 0.5× nginx', met: mT.rps / rT.rps >= 0.5 && protocolMine === protocolNginx } : {}),
        notes: `${mT.requests} requests, a new TLS connection per request (the appliance's RSA certificate), every phone licensed and locked (a reboot); protocol: daemon ${protocolMine}, nginx ${protocolNginx || 'not run'}; ${rounds} (daemon: ${perRound(mT)} req/s${rT ? `; nginx: ${perRound(rT)}` : ''}); p50 ${mT.p50.toFixed(1)} ms, p99 ${mT.p99.toFixed(1)} ms; daemon CPU ${mT.cpuUs.toFixed(0)} µs per request${rT ? `; nginx p50 ${rT.p50.toFixed(1)} ms, p99 ${rT.p99.toFixed(1)} ms` : `; ${noNginx}`}`,
      },
      {
        name: 'bare node:https from memory (platform ceiling)', value: Math.round(ceilingTls.rps), unit: 'req/s', ...(rT ? { reference: { name: 'nginx HTTPS', value: Math.round(rT.rps) }, ratio: +(ceilingTls.rps / rT.rps).toFixed(2) } : {}),
        notes: `same requests, bytes and certificate, one Node process, ${rounds} (${perRound(ceilingTls)} req/s): p50 ${ceilingTls.p50.toFixed(1)} ms, p99 ${ceilingTls.p99.toFixed(1)} ms, CPU ${ceilingTls.cpuUs.toFixed(0)} µs per request; the daemon reaches ${((mT.rps / ceilingTls.rps) * 100).toFixed(0)}% of it`,
      },
      {
        name: 'provisioning HTTPS boot storm errors', value: mT.errors + checkedTls.wrong, unit: 'requests', ...(rT ? { reference: { name: 'nginx HTTPS', value: rT.errors } } : {}),
        target: '0', met: mT.errors + checkedTls.wrong === 0, notes: `over all rounds; ${checkedTls.wrong} steps answered with another status than expected; ${locked}/${Math.ceil(phones.length / 50)} sampled phones locked to their address`,
      },
    ];
    const vs = (value: number) => (r ? { reference: { name: 'nginx static files', value } } : {});
    return [
      {
        name: 'provisioning boot storm throughput', value: Math.round(m.rps), unit: 'req/s', ...vs(Math.round(r?.rps ?? 0)),
        ...(r ? { ratio: +(m.rps / r.rps).toFixed(2), target: '≥ 0.3× nginx', met: m.rps / r.rps >= 0.3 } : {}),
        notes: r ? notes : `${notes}; ${noNginx}`,
      },
      { name: 'provisioning boot storm p50 latency', value: +m.p50.toFixed(1), unit: 'ms', ...vs(+(r?.p50 ?? 0).toFixed(1)), ...(r ? { ratio: +(r.p50 / m.p50).toFixed(2) } : {}) },
      { name: 'provisioning boot storm p99 latency', value: +m.p99.toFixed(1), unit: 'ms', ...vs(+(r?.p99 ?? 0).toFixed(1)), ...(r ? { ratio: +(r.p99 / m.p99).toFixed(2) } : {}), target: '≤ 60 ms', met: m.p99 <= 60, notes: `${rounds}: ${m.each.map((x) => x.p99.toFixed(1)).join(', ')} ms` },
      { name: 'provisioning boot storm errors', value: m.errors + checked.wrong, unit: 'requests', ...vs(r?.errors ?? 0), target: '0 (and every Cisco phone licensed)', met: m.errors + checked.wrong === 0 && allLicensed, notes: `over all rounds; ${checked.wrong} steps answered with another status than the device's protocol expects` },
      {
        name: 'bare node:http from memory (platform ceiling)', value: Math.round(ceiling.rps), unit: 'req/s', ...vs(Math.round(r?.rps ?? 0)),
        ...(r ? { ratio: +(ceiling.rps / r.rps).toFixed(2) } : {}),
        notes: `same requests and bytes, no provisioning logic, ${rounds} (${perRound(ceiling)} req/s): p50 ${ceiling.p50.toFixed(1)} ms, p99 ${ceiling.p99.toFixed(1)} ms, CPU ${ceiling.cpuUs.toFixed(0)} µs per request; the daemon reaches ${((m.rps / ceiling.rps) * 100).toFixed(0)}% of it`,
      },
      {
        name: 'provisioning daemon against bare node:http (same run)', value: Math.round(m.rps), unit: 'req/s', reference: { name: 'bare node:http', value: Math.round(ceiling.rps) },
        ratio: +(m.rps / ceiling.rps).toFixed(2), target: '≥ 0.7× bare node:http (aim)', met: m.rps / ceiling.rps >= 0.7,
        notes: `CPU per request: daemon ${m.cpuUs.toFixed(0)} µs, bare node:http ${ceiling.cpuUs.toFixed(0)} µs`,
      },
      ...tlsRows,
    ] satisfies BenchRow[];
  } finally {
    for (const c of children) c.kill('SIGQUIT'); // nginx stops gracefully on QUIT; node exits
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.on('exit', r)) : undefined)));
    rmSync(work, { recursive: true, force: true });
    if (snapshot) rmSync(snapshot, { recursive: true, force: true });
  }
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await bench();
  for (const r of rows)
    console.log(
      `${r.name.padEnd(38)} ${String(r.value).padStart(8)} ${r.unit.padEnd(8)}` +
        (r.reference ? `  ${r.reference.name}: ${r.reference.value}` : '') +
        (r.ratio !== undefined ? `  ratio ${r.ratio.toFixed(2)}×` : '') +
        (r.target ? `  target ${r.target}: ${r.met ? 'met' : 'NOT met'}` : '') +
        (r.notes ? `  (${r.notes})` : ''),
    );
}
// For profiling the daemon under the same storm (node --cpu-prof dist/daemon/bin/pbxd.js …).
export { makePhones, preRegister, storm };
