import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { issueLicense, type LicenseSpec } from '../../tools/license-issuer.js';

export const ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const BIN = {
  pbxd: join(ROOT, 'dist/daemon/bin/pbxd.js'),
  pbxctl: join(ROOT, 'dist/daemon/bin/pbxctl.js'),
  pbxLicense: join(ROOT, 'dist/tools/pbx-license.js'),
};

export const ADMIN_PASSWORD = 'test-admin-password-1';

/**
 * How systemd/pbxd.service and `npm start` start node (keep the three the same; bench/startup.ts measures it):
 * - a 4 MiB young generation (the default 16 MiB cost about 20 MiB resident);
 * - the old generation may grow by 50% of what survived the last full GC before the next one (V8's
 *   own factor of up to 4× let a boot storm's garbage take the heap from 30 to 80 MiB some runs;
 *   25% kept it lower still but cost about 10% more CPU per request in the storm);
 * - glibc's mmap threshold fixed at 128 KiB, so a large buffer (scrypt's 16 MiB at every admin
 *   login) goes back to the system when freed instead of staying in a thread's malloc arena; fixing
 *   it also fixes the trim threshold (128 KiB: two thousand madvise calls in a boot storm), so that
 *   is set to 1 MiB.
 */
export const PBXD_NODE_FLAGS = ['--max-semi-space-size=4', '--heap-growing-percent=50'];
export const PBXD_ENV = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '1048576' };

export interface Reply<T = any> {
  status: number;
  headers: Headers;
  json: T;
  text: string;
}

export interface StartOptions {
  /** Reuse a data folder (restart tests); default: a new temp folder. */
  dataDir?: string;
  /** Extra config merged over the test defaults. */
  config?: Record<string, unknown>;
  env?: Record<string, string>;
}

/**
 * The real daemon as a child process on ephemeral ports, with its own data
 * folder and SQLite file. Tests talk to it over HTTP, the control socket and
 * pbxctl, as admins and phones would.
 */
export class TestDaemon {
  readonly output: string[] = [];
  listeners: Record<string, string> = {};
  systemId = '';
  private token = '';
  private exited: Promise<number | null>;

  private constructor(
    readonly dataDir: string,
    private readonly child: ChildProcess,
    readonly configFile: string,
    private readonly opts: StartOptions,
  ) {
    this.exited = new Promise((r) => child.on('exit', (code) => r(code)));
  }

  static async start(opts: StartOptions = {}): Promise<TestDaemon> {
    const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'pbxd-test-'));
    const configFile = join(dataDir, 'test-config.json');
    const config = {
      dataDir,
      http: { host: '127.0.0.1', port: 0 },
      provisioning: { host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0 },
      admin: { initialPassword: ADMIN_PASSWORD, loginFailuresPerMinute: 5 },
      dev: { clockControl: true },
      log: { level: 'debug' },
      ...opts.config,
    };
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const child = spawn(process.execPath, [...PBXD_NODE_FLAGS, BIN.pbxd, '--config', configFile], { env: { ...process.env, ...PBXD_ENV, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const d = new TestDaemon(dataDir, child, configFile, opts);
    await d.waitReady();
    return d;
  }

  private waitReady(): Promise<void> {
    return new Promise((resolve, reject) => {
      let buf = '';
      const onData = (chunk: Buffer) => {
        buf += chunk.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          this.output.push(line);
          const m = /^<5>ready listeners=(\{.*?\}) systemId=(\S+)/.exec(line);
          if (m) {
            this.listeners = JSON.parse(m[1]!);
            this.systemId = m[2]!;
            resolve();
          }
        }
      };
      this.child.stdout!.on('data', onData);
      this.child.stderr!.on('data', onData);
      this.child.on('exit', (code) => reject(new Error(`pbxd exited with ${code} before ready:\n${this.output.join('\n')}`)));
    });
  }

  get apiUrl(): string {
    return `http://${this.listeners.api}`;
  }

  get socketPath(): string {
    return this.listeners.control!;
  }

  /** A bearer token of the admin (logged in once, then reused). */
  async adminToken(): Promise<string> {
    if (!this.token) {
      const r = await this.request('POST', '/api/v1/auth/login', { body: { name: 'admin', password: ADMIN_PASSWORD, token: true }, auth: false });
      if (r.status !== 200) throw new Error(`login failed: ${r.text}`);
      this.token = r.json.token;
    }
    return this.token;
  }

  /** An HTTP request to the admin API; authenticated as admin unless auth: false. */
  async request<T = any>(
    method: string,
    path: string,
    opts: { body?: unknown; raw?: string | Buffer; contentType?: string; auth?: boolean; headers?: Record<string, string> } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.auth !== false) headers.authorization = `Bearer ${await this.adminToken()}`;
    let body: string | Buffer | undefined;
    if (opts.raw !== undefined) (body = opts.raw), (headers['content-type'] = opts.contentType ?? 'text/plain');
    else if (opts.body !== undefined) (body = JSON.stringify(opts.body)), (headers['content-type'] = 'application/json');
    const res = await fetch(this.apiUrl + path, { method, headers, body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body) });
    const text = await res.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, headers: res.headers, json, text };
  }

  /** Run pbxctl against this daemon's control socket. */
  ctl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const p = execFile(process.execPath, [BIN.pbxctl, ...args, '--socket', this.socketPath], { env: { ...process.env, LANG: 'C' } }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      if (input !== undefined) p.stdin!.end(input);
    });
  }

  /** A license for this appliance, signed by the development CA. */
  license(spec: Partial<LicenseSpec> = {}): string {
    return issueLicense({ systemId: this.systemId, ...spec });
  }

  async installLicense(spec: Partial<LicenseSpec> = {}): Promise<Reply> {
    const r = await this.request('POST', '/api/v1/license', { raw: this.license(spec) });
    if (r.status !== 200) throw new Error(`install failed: ${r.text}`);
    return r;
  }

  async status(): Promise<any> {
    return (await this.request('GET', '/api/v1/status')).json;
  }

  /** Move the daemon's clock (dev.clockControl). */
  async setClock(at: Date): Promise<void> {
    const r = await this.request('PUT', '/api/v1/dev/clock', { body: { now: at.toISOString() } });
    if (r.status !== 200) throw new Error(`set clock failed: ${r.text}`);
    this.token = ''; // API tokens expire (90 days): moved far ahead, log in again
  }

  /** SIGTERM and wait; resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.child.kill(signal);
    await this.exited;
  }

  /** Start again on the same data folder and config. */
  async restart(): Promise<TestDaemon> {
    await this.stop();
    return TestDaemon.start({ ...this.opts, dataDir: this.dataDir });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Stop and delete the data folder. */
  async dispose(): Promise<void> {
    await this.stop();
    if (!this.opts.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const DAY = 24 * 3600_000;
/** A UTC time as license files carry it (whole seconds). */
export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
