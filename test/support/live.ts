import { io, type Socket } from 'socket.io-client';
import { ADMIN_PASSWORD, type TestDaemon } from './daemon.js';

/** A socket.io client of the live channel that records every message it gets. */
export class LiveClient {
  readonly received: Array<{ name: string; payload: any }> = [];
  private waiters: Array<() => void> = [];

  constructor(readonly socket: Socket) {
    socket.onAny((name: string, payload: unknown) => {
      this.received.push({ name, payload });
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Open a socket: `{ token }` (bearer), `{ cookie, origin }` (browser session), or nothing. */
  static connect(d: TestDaemon, opts: { token?: string; cookie?: string; origin?: string } = {}): LiveClient {
    const extraHeaders: Record<string, string> = {};
    if (opts.cookie) extraHeaders.cookie = opts.cookie;
    if (opts.origin) extraHeaders.origin = opts.origin;
    const socket = io(d.apiUrl, { transports: ['websocket'], reconnection: false, auth: opts.token ? { token: opts.token } : {}, extraHeaders, forceNew: true });
    return new LiveClient(socket);
  }

  /** Resolves when connected; rejects with the server's refusal (`err.data`). */
  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.connected) return resolve();
      this.socket.once('connect', () => resolve());
      this.socket.once('connect_error', (e) => reject(e));
    });
  }

  /** Every event (data) that arrived under `name`, unbatched. */
  events(name: string): any[] {
    return this.received.filter((m) => m.name === name).flatMap((m) => (Array.isArray(m.payload) ? m.payload.map((e: { data: unknown }) => e.data) : [m.payload]));
  }

  /** Wait until `test()` holds for what has arrived (at most `ms`). */
  async until(test: () => boolean, what: string, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!test()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got: ${this.received.map((m) => m.name).join(', ')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => (clearTimeout(t), r()));
      });
    }
  }

  close(): void {
    this.socket.close();
  }
}

/** Log in as the browser does: the session cookie (name=value) and the CSRF token. */
export async function browserSession(d: TestDaemon): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(d.apiUrl + '/api/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'admin', password: ADMIN_PASSWORD }) });
  if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  return { cookie, csrf: ((await res.json()) as { csrf: string }).csrf };
}
