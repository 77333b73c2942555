import { expect } from 'chai';
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { activationHandler, type RequestKeyEntry } from '../../tools/activation-server.js';
import { encodeLicenseFile, parseLicenseFile } from '../../daemon/licensing/format.js';
import type { TestDaemon } from './daemon.js';
import { eventually } from './eventually.js';

export { DAY, iso } from './daemon.js';

/**
 * The development activation server's protocol handler on 127.0.0.1:0, with
 * switchable faults: answer normally, 503, never answer, or be down.
 */
export class ActivationFixture {
  mode: 'serve' | 'error503' | 'hang' = 'serve';
  private server!: http.Server;
  port = 0;
  private readonly handler: http.RequestListener;

  private constructor(readonly dir: string) {
    this.handler = activationHandler({ dir });
  }

  static async start(): Promise<ActivationFixture> {
    const f = new ActivationFixture(mkdtempSync(join(tmpdir(), 'pbxd-activation-')));
    await f.up();
    return f;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    this.server = http.createServer((req, res) => {
      if (this.mode === 'error503') return void res.writeHead(503, { 'content-type': 'text/plain' }).end('maintenance');
      if (this.mode === 'hang') return; // never answers: the client's timeout must end it
      this.handler(req, res);
    });
    await new Promise<void>((r) => this.server.listen(this.port, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
  }

  async down(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  requestKeys(keys: Record<string, RequestKeyEntry>): void {
    writeFileSync(join(this.dir, 'request-keys.json'), JSON.stringify(keys, null, 2));
  }

  /** Put an issued license where the server finds it for `systemId`. */
  publish(systemId: string, name: string, text: string): string {
    mkdirSync(join(this.dir, systemId), { recursive: true });
    const file = join(this.dir, systemId, name);
    writeFileSync(file, text);
    return file;
  }

  unpublish(file: string): void {
    rmSync(file, { force: true });
  }

  async dispose(): Promise<void> {
    await this.down().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The same file with its payload changed (users raised) and the original signature kept. */
export function tamper(text: string): string {
  const f = parseLicenseFile(text);
  const p = JSON.parse(f.payloadBytes.toString('utf8'));
  p.quantities.users = 9999;
  return encodeLicenseFile({ ...f, payloadBytes: Buffer.from(JSON.stringify(p), 'utf8') });
}

/** Wait until a log line matches, from line `from` on (log lines arrive over a pipe, a moment after the answer). */
export async function waitForLine(d: TestDaemon, re: RegExp, ms = 3000, from = 0): Promise<string> {
  return eventually(
    () => {
      const hit = d.output.slice(from).find((l) => re.test(l));
      if (!hit) throw new Error(`no log line matching ${re} within ${ms} ms; last lines:\n${d.output.slice(Math.max(from, d.output.length - 15)).join('\n')}`);
      return hit;
    },
    ms,
    25,
  );
}

let barriers = 0;

/**
 * A barrier in the daemon's log: once it returns, every line the daemon wrote
 * before the call has arrived. It asks for a user that does not exist and
 * waits for the "request refused" line naming it, which the daemon writes after
 * anything it wrote before (stdout and stderr are pipes, written in order and
 * both read before this line is found).
 */
export async function logBarrier(d: TestDaemon): Promise<void> {
  const mark = `log-barrier-${++barriers}`;
  expect((await d.request('GET', `/api/v1/users/${mark}`)).status).to.equal(404);
  await waitForLine(d, new RegExp(`request refused .*${mark}`));
}

export async function runJob(d: TestDaemon, name: string): Promise<any> {
  const r = await d.request('POST', `/api/v1/jobs/${name}/run`);
  if (r.status !== 200) throw new Error(`job ${name}: ${r.text}`);
  return r.json;
}
