import { createHash } from 'node:crypto';
import type http from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { Core } from '../core/core.js';
import type { AnyBusEvent, EventName } from '../kernel/events.js';
import type { Principal } from '../core/admins.js';
import { applianceStatus, type ApplianceStatus } from '../core/status.js';
import type { Feature } from '../feature.js';
import { readCookie, SESSION_COOKIE } from './auth.js';

/** Every authenticated socket joins this room; each session also has a room of its own. */
const ADMINS = 'admins';
const sessionRoom = (key: string) => `session:${key}`;

/** The key of a session (or token) as the bus may name it: never the token itself. */
export const sessionKey = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 32);

/**
 * Events the UI never gets: per-request provisioning metrics (hundreds per
 * second in a boot storm), and login/logout (source addresses, session keys).
 */
const NOT_FORWARDED = new Set<EventName>(['provisioning.request', 'admin.login', 'admin.logout']);

/** Events that cannot change what `status` shows; any other event sends a fresh status after the batch. */
const STATUS_UNCHANGED = new Set<EventName>(['audit.appended', 'provisioning.event', 'provisioning.alert', 'license.staged', 'license.refused']);

/** A status snapshot is reused for at most this long (its `now` and grace countdown age). */
const SNAPSHOT_MAX_AGE_MS = 2000;

interface SocketData {
  principal: Principal;
  /** Kept only to re-check the session (expiry, logout elsewhere, password change). */
  token: string;
}

interface LiveOptions {
  /** Events arriving within this window go out as one message per event name. */
  batchMs?: number;
  /** How often open sockets' sessions are checked again (expired, revoked). */
  recheckMs?: number;
}

/**
 * Socket.IO on the admin API's port: the web UI's live channel.
 *
 * Authenticated at the handshake, from the browser's session cookie (with an
 * Origin check, see CVE-2023-49805) or from `auth: { token }` (scripts, tests).
 * On connect a socket gets a `status` snapshot; after that every core bus
 * event is forwarded under its own name. Events are batched: within `batchMs`
 * all events of one name go out as ONE message whose payload is the list of
 * `{ at, data }`, serialized once for all sockets (`io.to(room).emit`), so an
 * import of 10,000 users or a boot storm of phones costs a few messages, not
 * thousands per browser. After a batch that may have changed counts or mode,
 * one fresh `status` follows.
 */
export class LiveUpdates implements Feature {
  readonly name = 'live';
  private io: Server | null = null;
  private pending = new Map<EventName, Array<{ at: string; data: unknown }>>();
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  private recheck: NodeJS.Timeout | null = null;
  private unsubscribe: Array<() => void> = [];
  private readonly batchMs: number;
  private readonly recheckMs: number;
  /** The last status computed, shared by sockets connecting meanwhile (a reconnect storm after a restart asks once, not 1,000 times). */
  private snapshot: { at: number; status: Promise<ApplianceStatus> } | null = null;

  constructor(
    private readonly core: Core,
    opts: LiveOptions = {},
  ) {
    this.batchMs = opts.batchMs ?? 60;
    this.recheckMs = opts.recheckMs ?? 30_000;
  }

  async start({ api }: { api: http.Server }): Promise<void> {
    const io = new Server(api, { serveClient: true, maxHttpBufferSize: 64 * 1024 });
    this.io = io;
    io.use((socket, next) => {
      this.authenticate(socket).then(
        (data) => {
          socket.data = data;
          next();
        },
        (e: Error & { data?: unknown }) => next(e),
      );
    });
    io.on('connection', (socket) => void this.onConnection(socket));
    this.core.metrics.gauge('pbxd_ui_sockets', 'Connected live sockets (web UI pages and scripts)', [], () => [{ value: io.of('/').sockets.size }]);
    this.unsubscribe.push(this.core.bus.onAny((e) => this.onEvent(e)));
    this.unsubscribe.push(this.core.bus.on('admin.logout', (e) => void io.in(sessionRoom(e.data.session)).disconnectSockets(true)));
    this.recheck = setInterval(() => void this.recheckSessions(), this.recheckMs).unref();
  }

  private async authenticate(socket: Socket): Promise<SocketData> {
    const refused = (code: string, en: string, de: string) => Object.assign(new Error(en), { data: { code, text: { en, de } } });
    const h = socket.handshake;
    const given = (h.auth as { token?: unknown } | undefined)?.token;
    if (typeof given === 'string' && given) {
      const principal = await this.core.admins.authenticate(given);
      if (!principal) throw refused('AUTH_REQUIRED', 'The token is not valid (any more). Log in again.', 'Das Token ist nicht (mehr) gültig. Melden Sie sich erneut an.');
      return { principal, token: given };
    }
    const cookie = readCookie(h.headers.cookie, SESSION_COOKIE);
    if (!cookie) throw refused('AUTH_REQUIRED', 'Log in first: the live channel needs a session.', 'Melden Sie sich zuerst an: der Live-Kanal braucht eine Sitzung.');
    // A cookie is sent by the browser whatever page opens the socket: accept it only from our own pages.
    const origin = h.headers.origin;
    if (!origin || !sameOrigin(origin, h.headers.host)) throw refused('AUTH_ORIGIN', `A page from ${origin ?? 'an unknown origin'} may not use this session.`, `Eine Seite von ${origin ?? 'unbekannter Herkunft'} darf diese Sitzung nicht verwenden.`);
    const principal = await this.core.admins.authenticate(cookie);
    if (!principal || principal.kind !== 'session') throw refused('AUTH_REQUIRED', 'The session has ended. Log in again.', 'Die Sitzung ist beendet. Melden Sie sich erneut an.');
    return { principal, token: cookie };
  }

  private async onConnection(socket: Socket): Promise<void> {
    const data = socket.data as SocketData;
    await socket.join([ADMINS, sessionRoom(sessionKey(data.token))]);
    socket.emit('hello', { admin: data.principal.admin });
    try {
      socket.emit('status', await this.status());
    } catch (e) {
      this.core.log.warn('live status not sent', { error: String(e) });
    }
  }

  private status(fresh = false): Promise<ApplianceStatus> {
    if (fresh || !this.snapshot || Date.now() - this.snapshot.at > SNAPSHOT_MAX_AGE_MS) {
      const status = applianceStatus(this.core);
      this.snapshot = { at: Date.now(), status };
      status.catch(() => (this.snapshot = null));
    }
    return this.snapshot.status;
  }

  private onEvent(e: AnyBusEvent): void {
    if (NOT_FORWARDED.has(e.name)) return;
    let list = this.pending.get(e.name);
    if (!list) this.pending.set(e.name, (list = []));
    list.push({ at: e.at, data: e.data });
    if (!STATUS_UNCHANGED.has(e.name)) this.snapshot = null;
    // At most one message per event name per batchMs. After a quiet spell the batch goes out
    // at once (with whatever the same commit emitted in this tick), so a single change does not
    // wait out the window; a burst that follows waits for the rest of it.
    this.timer ??= setTimeout(() => void this.flush(), Math.max(0, this.batchMs - (Date.now() - this.lastFlush)));
  }

  private async flush(): Promise<void> {
    this.timer = null;
    this.lastFlush = Date.now();
    const io = this.io;
    const batch = this.pending;
    this.pending = new Map();
    // Nobody watching (a boot storm at night): no messages, and no status computed for no one.
    if (!io || io.of('/').sockets.size === 0) return;
    let statusChanged = false;
    // The change itself before its audit entry: each message to 1,000 sockets takes its
    // turn on the wire, and what a page shows first is the change (bench/fanout.ts).
    const ordered = [...batch].sort(([a], [b]) => Number(a === 'audit.appended') - Number(b === 'audit.appended'));
    for (const [name, events] of ordered) {
      io.to(ADMINS).emit(name, events);
      if (!STATUS_UNCHANGED.has(name)) statusChanged = true;
    }
    if (statusChanged) {
      try {
        io.to(ADMINS).emit('status', await this.status(true));
      } catch (e) {
        this.core.log.warn('live status not sent', { error: String(e) });
      }
    }
  }

  /** Sessions end by expiry or a password change too: their sockets go then, not at the next reload. */
  private async recheckSessions(): Promise<void> {
    if (!this.io) return;
    const byToken = new Map<string, Socket[]>();
    for (const s of this.io.of('/').sockets.values()) {
      const t = (s.data as SocketData).token;
      byToken.set(t, [...(byToken.get(t) ?? []), s]);
    }
    for (const [token, sockets] of byToken) {
      if (await this.core.admins.authenticate(token)) continue;
      for (const s of sockets) s.disconnect(true);
    }
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    if (this.timer) clearTimeout(this.timer);
    if (this.recheck) clearInterval(this.recheck);
    this.timer = this.recheck = null;
    if (!this.io) return;
    this.core.metrics.remove('pbxd_ui_sockets');
    // Not io.close(): that would close the API's http server, which its Listener owns.
    this.io.disconnectSockets(true);
    this.io.engine.close();
    this.io = null;
  }
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return !!host && new URL(origin).host === host;
  } catch {
    return false;
  }
}
