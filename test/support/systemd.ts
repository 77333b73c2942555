import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';

/**
 * A stand-in for systemd's notify socket: an AF_UNIX datagram socket (Node has
 * none, so a few lines of Python hold it). Every datagram becomes one record;
 * passed file descriptors (systemd-notify's BARRIER=1 pipe) are closed so the
 * sender's barrier completes as with the real manager. On READY=1 it connects
 * to each target at once — before the daemon could do anything else — and
 * records whether the connection was accepted.
 */
const RECEIVER = String.raw`
import json, os, socket, sys, time
path, targets = sys.argv[1], sys.argv[2:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print(json.dumps({"listening": True}), flush=True)
while True:
    msg, fds, _flags, _addr = socket.recv_fds(s, 65536, 16)
    for fd in fds:
        os.close(fd)
    lines = msg.decode().split("\n")
    rec = {"at": time.time() * 1000, "fields": dict(l.split("=", 1) for l in lines if "=" in l)}
    if "READY=1" in lines:
        rec["connect"] = {}
        for t in targets:
            try:
                if t.startswith("/"):
                    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    c.settimeout(1)
                    c.connect(t)
                else:
                    host, port = t.rsplit(":", 1)
                    c = socket.create_connection((host, int(port)), timeout=1)
                c.close()
                rec["connect"][t] = "ok"
            except Exception as e:
                rec["connect"][t] = str(e)
    print(json.dumps(rec), flush=True)
`;

export interface NotifyRecord {
  /** Milliseconds since the epoch when the datagram arrived. */
  at: number;
  fields: Record<string, string>;
  /** Only on READY=1: target → "ok" or the connection error. */
  connect?: Record<string, string>;
}

export class FakeNotifySocket {
  readonly records: NotifyRecord[] = [];
  private constructor(
    private readonly dir: string,
    readonly path: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(connectOnReady: string[] = []): Promise<FakeNotifySocket> {
    const dir = mkdtempSync(join(tmpdir(), 'pbxd-notify-'));
    const path = join(dir, 'notify.sock');
    const child = spawn('python3', ['-c', RECEIVER, path, ...connectOnReady], { stdio: ['ignore', 'pipe', 'inherit'] });
    const fake = new FakeNotifySocket(dir, path, child);
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (c: Buffer) => {
        buf += c.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const rec = JSON.parse(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          if (rec.listening) resolve();
          else fake.records.push(rec);
        }
      });
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`notify receiver exited with ${code}`)));
    });
    return fake;
  }

  /** Records that carry `KEY=value`. */
  with(key: string, value = '1'): NotifyRecord[] {
    return this.records.filter((r) => r.fields[key] === value);
  }

  async waitFor(key: string, value = '1', count = 1, timeoutMs = 5000): Promise<NotifyRecord[]> {
    return eventually(
      () => {
        const hits = this.with(key, value);
        if (hits.length < count) throw new Error(`no ${count}× ${key}=${value} within ${timeoutMs} ms; got ${JSON.stringify(this.records)}`);
        return hits;
      },
      timeoutMs,
      20,
    );
  }

  close(): void {
    this.child.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A TCP port that was free a moment ago (for tests that must know the port before the daemon starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Prometheus text format 0.0.4, parsed strictly enough to catch what a
 * scraper would reject: every sample belongs to a family declared by # TYPE,
 * names and labels are well formed, values are numbers.
 */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheus(text: string): { types: Record<string, string>; samples: PromSample[] } {
  const types: Record<string, string> = {};
  const samples: PromSample[] = [];
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      if (!/^(counter|gauge|histogram|summary|untyped)$/.test(type ?? '')) throw new Error(`bad TYPE line: ${line}`);
      if (types[name!]) throw new Error(`TYPE twice for ${name}`);
      types[name!] = type!;
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
      let lm;
      let consumed = 0;
      while ((lm = re.exec(m[3]))) {
        labels[lm[1]!] = lm[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
        consumed = re.lastIndex;
      }
      if (consumed !== m[3].length) throw new Error(`bad labels: ${line}`);
    }
    const value = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4]);
    if (Number.isNaN(value) && m[4] !== 'NaN') throw new Error(`bad value: ${line}`);
    const name = m[1]!;
    const family = types[name] ? name : name.replace(/_(bucket|sum|count)$/, '');
    if (!types[family]) throw new Error(`sample before its # TYPE: ${line}`);
    samples.push({ name, labels, value });
  }
  return { types, samples };
}

/** The value of the one sample of `name` whose labels include `labels`. */
export function sampleValue(samples: PromSample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}
