import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { Core } from '../core/core.js';
import type { Feature } from '../feature.js';
import { isRefusal, refuse as refuseCommon, type Refusal } from '../kernel/refusal.js';
import { refuse } from '../core/client-session-refusals.js';
import { sessionRoutes } from '../http/routes/sessions.js';

export const CLIENT_PATH = '/ws/client';
const CLIENT_SESSIONS_METRIC = 'pbxd_client_sessions';

/** Close codes of the client protocol (README "Client sessions (WebSocket)"). */
const CLOSE_CODES: Record<string, number> = {
  SESS_AUTH_INVALID: 4001,
  SESS_AUTH_TIMEOUT: 4001,
  SESS_CREDENTIALS_REVOKED: 4001,
  SESS_AUTH_RATE_LIMITED: 4001,
  SESS_NO_LICENSE: 4003,
  SESS_USER_NOT_ACTIVE: 4003,
  SESS_KIND_INVALID: 4009,
  SESS_TOO_MANY: 4008,
  SESS_PROTOCOL: 4009,
  SESS_LICENSE_REMOVED: 4010,
  SESS_USER_REMOVED: 4010,
  SESS_ENDED_BY_ADMIN: 4011,
  SERVER_STOPPING: 1001,
  STORE_UNAVAILABLE: 1011,
};

/** A close reason is at most 123 bytes of UTF-8; the full refusal goes in the error message before it. */
function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= 123) return text;
  let s = text;
  while (Buffer.byteLength(s) > 120) s = s.slice(0, -1);
  return s + '…';
}

interface Connection {
  ws: WebSocket;
  alive: boolean;
  state: 'hello' | 'checking' | 'open';
  sessionId: string | null;
}

/**
 * The WebSocket endpoint where clients open a session for a user. It shares the
 * admin API's http server: it answers upgrades for its own path only and leaves
 * every other upgrade (socket.io's /socket.io/) untouched for its owner.
 */
export class ClientEndpoint implements Feature {
  readonly name = 'client-endpoint';
  private wss: WebSocketServer | null = null;
  private api: http.Server | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly connections = new Set<Connection>();

  constructor(private readonly core: Core) {}

  routes() {
    return [sessionRoutes(this.core)];
  }

  async start({ api }: { api: http.Server }): Promise<void> {
    this.wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: this.settings.maxMessageBytes });
    this.api = api;
    api.on('upgrade', this.onUpgrade);
    this.scheduleHeartbeat();
    this.core.metrics.gauge(CLIENT_SESSIONS_METRIC, 'Open client sessions (desktop client, app, TAPI, operator console) by kind', ['kind'], () =>
      Object.entries(this.core.clientSessions.counts()).map(([kind, value]) => ({ labels: { kind }, value })),
    );
  }

  async stop(): Promise<void> {
    this.core.metrics.remove(CLIENT_SESSIONS_METRIC);
    this.api?.off('upgrade', this.onUpgrade);
    if (this.heartbeat) clearTimeout(this.heartbeat);
    const bye = refuseCommon('SERVER_STOPPING');
    const closed = [...this.connections].map((c) => new Promise<void>((resolve) => {
      if (c.ws.readyState === WebSocket.CLOSED) return resolve();
      c.ws.once('close', () => resolve());
      this.refuseAndClose(c, bye);
    }));
    // Clients get a second to answer the close frame; then their sockets are cut.
    await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, 1000).unref())]);
    for (const c of this.connections) c.ws.terminate();
    this.wss?.close();
  }

  private get settings() {
    return this.core.config.sessions;
  }

  private readonly onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== CLIENT_PATH || !this.wss) return; // another adapter's path: not ours to answer or destroy
    // Read per connection so a reload applies to new connections.
    (this.wss.options as { maxPayload: number }).maxPayload = this.settings.maxMessageBytes;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
  };

  private accept(ws: WebSocket, req: http.IncomingMessage): void {
    const c: Connection = { ws, alive: true, state: 'hello', sessionId: null };
    const address = req.socket.remoteAddress ?? '?';
    const from = `${address}:${req.socket.remotePort ?? 0}`;
    this.connections.add(c);
    const helloSeconds = this.settings.helloSeconds;
    const helloTimer = setTimeout(() => c.state === 'hello' && this.refuseAndClose(c, refuse('SESS_AUTH_TIMEOUT', { seconds: helloSeconds })), helloSeconds * 1000);
    ws.on('pong', () => (c.alive = true));
    // ws reports oversized or malformed frames here and closes with 1009/1002/1007 itself.
    ws.on('error', (e) => this.core.log.debug('client socket error', { from, error: e.message }));
    ws.on('close', (code, reason) => {
      clearTimeout(helloTimer);
      this.connections.delete(c);
      if (c.sessionId) this.core.clientSessions.closed(c.sessionId, reason.toString() || `closed (${code})`);
    });
    ws.on('message', (data, isBinary) => void this.onMessage(c, address, from, data, isBinary));
  }

  private async onMessage(c: Connection, address: string, from: string, data: RawData, isBinary: boolean): Promise<void> {
    const msg = isBinary ? null : parse(data);
    if (!msg) return this.refuseAndClose(c, refuse('SESS_PROTOCOL', { problem: isBinary ? 'binary frames are not part of the protocol' : 'not a JSON object with a type' }));
    if (c.state === 'hello') {
      if (msg.type !== 'hello') return this.refuseAndClose(c, refuse('SESS_PROTOCOL', { problem: 'the first message must be {"type":"hello"}' }));
      c.state = 'checking';
      try {
        const session = await this.core.clientSessions.open(
          { kind: msg.kind, user: msg.user, token: msg.token, password: msg.password, from, address },
          { end: (why) => this.refuseAndClose(c, why) },
        );
        if (c.ws.readyState !== WebSocket.OPEN) return this.core.clientSessions.closed(session.id, 'client left during hello');
        c.sessionId = session.id;
        c.state = 'open';
        c.ws.send(JSON.stringify({ type: 'welcome', session, heartbeatSeconds: this.settings.heartbeatSeconds }));
        this.core.log.debug('client session opened', { id: session.id, user: session.userName, kind: session.kind, from });
      } catch (e) {
        if (isRefusal(e)) {
          this.core.log.info('client session refused', { from, code: e.code });
          return this.refuseAndClose(c, e);
        }
        this.core.log.error('client session failed', { from, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
        if (c.ws.readyState === WebSocket.OPEN) c.ws.close(1011, 'internal error; nothing was changed');
      }
      return;
    }
    if (c.state === 'checking') return this.refuseAndClose(c, refuse('SESS_PROTOCOL', { problem: 'wait for welcome before sending more' }));
    if (msg.type === 'ping') return void c.ws.send(JSON.stringify({ type: 'pong', at: this.core.clock.now().toISOString() }));
    if (msg.type === 'bye') return void c.ws.close(1000, 'bye');
    this.refuseAndClose(c, refuse('SESS_PROTOCOL', { problem: `unknown message type "${String(msg.type).slice(0, 40)}"` }));
  }

  /**
   * Tell the client why (the full refusal, both languages), then close with the
   * protocol's code. Its session ends now, not when the client's close arrives.
   */
  private refuseAndClose(c: Connection, why: Refusal): void {
    if (c.sessionId) this.core.clientSessions.closed(c.sessionId, why.code);
    c.sessionId = null;
    const ws = c.ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    // Both frames in one write: a batch removal closes thousands of sockets in one go,
    // and the syscalls are most of its cost (ws keeps its net.Socket in `_socket`).
    const socket = (ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    socket?.cork();
    ws.send(JSON.stringify({ type: 'error', error: why.toJSON() }));
    ws.close(CLOSE_CODES[why.code] ?? 4009, closeReason(why.text.en));
    socket?.uncork();
  }

  /** Ping every heartbeatSeconds; a socket that did not answer the previous ping is cut. */
  private scheduleHeartbeat(): void {
    this.heartbeat = setTimeout(() => {
      for (const c of this.connections) {
        if (!c.alive) {
          this.core.log.info('client missed heartbeat; socket cut', { session: c.sessionId });
          c.ws.terminate();
          continue;
        }
        c.alive = false;
        c.ws.ping();
      }
      this.scheduleHeartbeat();
    }, this.settings.heartbeatSeconds * 1000);
    this.heartbeat.unref();
  }
}

function parse(data: RawData): Record<string, unknown> | null {
  try {
    const v = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) && typeof v.type === 'string' ? v : null;
  } catch {
    return null;
  }
}
