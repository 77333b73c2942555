import { WebSocket } from 'ws';
import type { TestDaemon } from './daemon.js';

export interface Hello {
  kind: string;
  user: string;
  token?: string;
  password?: string;
}

/**
 * A client of /ws/client as the desktop client, app, TAPI driver or operator
 * console would be: it records every message and the close code and reason.
 */
export class ClientSocket {
  readonly messages: any[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()));
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('error', () => undefined);
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(d: Pick<TestDaemon, 'listeners'>, opts: { autoPong?: boolean; path?: string } = {}): Promise<ClientSocket> {
    const ws = new WebSocket(`ws://${d.listeners.api}${opts.path ?? '/ws/client'}`, { autoPong: opts.autoPong ?? true });
    const c = new ClientSocket(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(c));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** Connect, say hello, and wait for the first answer: welcome or error (followed by close). */
  static async hello(d: Pick<TestDaemon, 'listeners'>, hello: Hello, opts: { autoPong?: boolean } = {}): Promise<ClientSocket> {
    const c = await ClientSocket.open(d, opts);
    c.send({ type: 'hello', ...hello });
    await c.next();
    return c;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' || Buffer.isBuffer(msg) ? msg : JSON.stringify(msg));
  }

  /** Wait for the next message (or the close, whichever comes first). */
  next(timeoutMs = 5000): Promise<any> {
    const seen = this.messages.length;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no message')), timeoutMs);
      const check = () => {
        clearTimeout(t);
        resolve(this.messages[seen]);
      };
      this.waiters.push(check);
      void this.closed.then(check);
    });
  }

  get welcome(): any {
    return this.messages.find((m) => m.type === 'welcome');
  }

  /** The close, or a rejection when none came within `ms`. */
  closeWithin(ms: number): Promise<{ code: number; reason: string }> {
    return Promise.race([this.closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`socket not closed within ${ms} ms`)), ms))]);
  }

  close(): void {
    this.ws.terminate();
  }
}

/** A license that grants the client codes (and `users` seats), so assignments are in force. */
export async function installClientLicense(d: TestDaemon, opts: { users?: number; clientbundle?: number; vap?: number; expiresAt?: string | null } = {}): Promise<void> {
  await d.installLicense({ quantities: { users: opts.users ?? 2000 }, perUser: { clientbundle: opts.clientbundle ?? 1500, vap: opts.vap ?? 20 }, expiresAt: opts.expiresAt ?? null });
}

/** Assign (or take away) per-user codes through the admin API, as the license table does. */
export async function assign(d: TestDaemon, changes: Array<{ userName: string; code: string; assigned: boolean }>): Promise<void> {
  const r = await d.request('POST', '/api/v1/user-licenses', { body: { changes } });
  if (r.status !== 200) throw new Error(`user-licenses failed: ${r.text}`);
}

/** Import users through the admin API (beyond the free seats they are pending), then assign their codes. */
export async function addUsers(d: TestDaemon, users: Array<{ userName: string; codes: string[] }>): Promise<void> {
  const r = await d.request('POST', '/api/v1/users/import', { body: { users: users.map((u) => ({ userName: u.userName, firstName: u.userName, lastName: 'Test' })) } });
  if (r.status !== 200) throw new Error(`import failed: ${r.text}`);
  const changes = users.flatMap((u) => u.codes.map((code) => ({ userName: u.userName, code, assigned: true })));
  if (changes.length) await assign(d, changes);
}

/** The admin issues a client token for a user (POST /users/:userName/client-tokens). */
export async function issueToken(d: TestDaemon, userName: string): Promise<string> {
  const r = await d.request('POST', `/api/v1/users/${encodeURIComponent(userName)}/client-tokens`, { body: { label: 'test' } });
  if (r.status !== 201) throw new Error(`token failed: ${r.text}`);
  return r.json.token;
}
