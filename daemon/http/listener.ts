import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { Refusal } from '../kernel/refusal.js';

type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A check every request and upgrade passes before anything else sees it: null to let it in. */
type Gate = (req: http.IncomingMessage) => Refusal | null;

/**
 * One listening server (TCP or Unix socket) that closes like Fastify: new
 * requests during shutdown get 503, idle keep-alive connections are dropped at
 * once, requests in flight finish before `stop()` resolves.
 */
export class Listener {
  readonly server: http.Server;
  private closing = false;
  private inFlight = 0;
  private drained: (() => void) | null = null;

  constructor(
    readonly name: string,
    handler: RequestHandler,
    tls?: { key: string; cert: string },
    gate?: Gate,
  ) {
    const wrapped: RequestHandler = (req, res) => {
      if (this.closing) {
        res.writeHead(503, { 'content-type': 'application/json', connection: 'close', 'retry-after': '5' });
        res.end(JSON.stringify({ error: { code: 'SERVER_STOPPING', status: 503, message: 'pbxd is shutting down.' } }));
        return;
      }
      this.inFlight++;
      res.on('close', () => {
        this.inFlight--;
        if (this.closing && this.inFlight === 0) this.drained?.();
      });
      handler(req, res);
    };
    this.server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, wrapped) : http.createServer(wrapped);
    if (gate) this.guard(gate);
    this.server.keepAliveTimeout = 5000;
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
  }

  /**
   * socket.io takes its requests and upgrades before the handler sees them (it
   * wraps the server's listeners), so the gate sits in front of the events themselves.
   */
  private guard(gate: Gate): void {
    const emit = this.server.emit.bind(this.server) as (event: string, ...args: unknown[]) => boolean;
    this.server.emit = ((event: string, ...args: unknown[]) => {
      if (event === 'request' || event === 'upgrade') {
        const refusal = gate(args[0] as http.IncomingMessage);
        if (refusal) {
          const body = JSON.stringify({ error: refusal.toJSON() });
          if (event === 'request') (args[1] as http.ServerResponse).writeHead(refusal.status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', connection: 'close' }).end(body);
          else (args[1] as Duplex).end(`HTTP/1.1 ${refusal.status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
          return true;
        }
      }
      return emit(event, ...args);
    }) as typeof this.server.emit;
  }

  /** Listen on host:port (port 0: any free port) and resolve with the bound address. */
  listenTcp(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const a = this.server.address() as AddressInfo;
        resolve(`${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
      });
    });
  }

  /** Listen on a Unix socket; its file mode is the access control (owner only). */
  listenUnix(path: string): Promise<string> {
    if (existsSync(path)) unlinkSync(path); // left over from a crash; we hold the data folder
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      const old = process.umask(0o177);
      this.server.listen(path, () => {
        process.umask(old);
        this.server.off('error', reject);
        chmodSync(path, 0o600);
        resolve(path);
      });
    });
  }

  get active(): number {
    return this.inFlight;
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      await Promise.race([new Promise<void>((r) => (this.drained = r)), new Promise((r) => setTimeout(r, graceMs).unref())]);
    }
    this.server.closeAllConnections();
    await closed;
  }
}
