import { randomBytes, randomUUID } from 'node:crypto';
import { pageOf, type PageAsk } from './paging.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import type { EventBus } from '../kernel/events.js';
import type { AuditLog } from './audit.js';
import type { Licensing } from '../licensing/licensing.js';
import type { Directory } from './users/directory.js';
import type { UserLicenses } from './users/user-licenses.js';
import type { Logger } from '../kernel/log.js';
import { checkPassword, hashPassword, tokenHash } from './admins.js';
import { defineRefusals, deParen, entry, fixed, refuse as refuseCommon, type Refusal } from '../kernel/refusal.js';

/** The clients that open a session for a user, and the per-user code each needs. */
export const REQUIRED_CODE = {
  desktop: 'clientbundle',
  app: 'clientbundle',
  tapi: 'clientbundle',
  console: 'vap',
} as const;
export type ClientKind = keyof typeof REQUIRED_CODE;
export const CLIENT_KINDS = Object.keys(REQUIRED_CODE) as ClientKind[];

const KIND_NAMES: Record<ClientKind, { en: string; de: string }> = {
  desktop: { en: 'the desktop client', de: 'der Desktop-Client' },
  app: { en: 'the mobile app', de: 'die Mobile App' },
  tapi: { en: 'the TAPI driver', de: 'der TAPI-Treiber' },
  console: { en: 'the operator console', de: 'der Vermittlungsarbeitsplatz' },
};

export const refuse = defineRefusals({
  SESS_AUTH_INVALID: entry(401, fixed({ en: 'Unknown user, or wrong token or password.', de: 'Unbekannter Benutzer oder falsches Token bzw. Passwort.' }),
    fixed({ en: 'Check the user name and the client token the administrator issued.', de: 'Prüfen Sie den Benutzernamen und das vom Administrator ausgestellte Client-Token.' })),
  SESS_AUTH_TIMEOUT: entry<{ seconds: number }>(401,
    (d) => ({ en: `No hello message within ${d.seconds} seconds.`, de: `Keine Hello-Nachricht innerhalb von ${d.seconds} Sekunden.` }),
    fixed({ en: 'Send {"type":"hello",...} right after connecting.', de: 'Senden Sie {"type":"hello",...} direkt nach dem Verbinden.' })),
  SESS_AUTH_RATE_LIMITED: entry<{ retryAfterSeconds: number }>(429,
    (d) => ({ en: `Too many failed client logins from this address; try again in ${d.retryAfterSeconds} seconds.`, de: `Zu viele fehlgeschlagene Client-Anmeldungen von dieser Adresse; versuchen Sie es in ${d.retryAfterSeconds} Sekunden erneut.` }),
    fixed({ en: 'Check the token or password configured in the client.', de: 'Prüfen Sie das im Client eingetragene Token bzw. Passwort.' })),
  SESS_KIND_INVALID: entry<{ kind: string }>(400,
    (d) => ({ en: `"${d.kind}" is not a client kind; use ${CLIENT_KINDS.join(', ')}.`, de: `"${d.kind}" ist keine Client-Art; verwenden Sie ${CLIENT_KINDS.join(', ')}.` }),
    fixed({ en: 'Update the client.', de: 'Aktualisieren Sie den Client.' })),
  SESS_NO_LICENSE: entry<{ userName: string; kind: string; code: string }>(403,
    (d) => ({ en: `User "${d.userName}" has no ${d.code} license, which ${KIND_NAMES[d.kind as ClientKind]?.en ?? d.kind} needs.`, de: `Benutzer "${d.userName}" hat keine ${d.code}-Lizenz, die ${KIND_NAMES[d.kind as ClientKind]?.de ?? d.kind} benötigt.` }),
    (d) => ({ en: `Ask the administrator to assign the ${d.code} license to "${d.userName}", then connect again.`, de: `Bitten Sie den Administrator, "${d.userName}" die ${d.code}-Lizenz zuzuweisen, und verbinden Sie sich erneut.` })),
  SESS_TOO_MANY: entry<{ userName: string; limit: number }>(429,
    (d) => ({ en: `User "${d.userName}" already has ${d.limit} of ${d.limit} client sessions open.`, de: `Benutzer "${d.userName}" hat bereits ${d.limit} von ${d.limit} Client-Sitzungen geöffnet.` }),
    fixed({ en: 'Close a client on another device (or ask the administrator to end a session), then connect again.', de: 'Schließen Sie einen Client auf einem anderen Gerät (oder lassen Sie eine Sitzung beenden) und verbinden Sie sich erneut.' })),
  SESS_PROTOCOL: entry<{ problem: string }>(400,
    (d) => ({ en: `Bad message: ${d.problem}.`, de: `Ungültige Nachricht${deParen(d.problem)}.` }),
    fixed({ en: 'Update the client; it speaks a protocol pbxd does not understand.', de: 'Aktualisieren Sie den Client; er spricht ein Protokoll, das pbxd nicht versteht.' })),
  SESS_USER_NOT_ACTIVE: entry<{ userName: string }>(403,
    (d) => ({ en: `User "${d.userName}" is not active (waiting for a free user seat or approval).`, de: `Benutzer "${d.userName}" ist nicht aktiv (wartet auf einen freien Benutzerplatz oder die Freigabe).` }),
    fixed({ en: 'Ask the administrator to approve the user.', de: 'Bitten Sie den Administrator, den Benutzer freizugeben.' })),
  SESS_LICENSE_REMOVED: entry<{ userName: string; code: string }>(403,
    (d) => ({ en: `User "${d.userName}" no longer holds the ${d.code} license; the session was ended.`, de: `Benutzer "${d.userName}" hat die ${d.code}-Lizenz nicht mehr; die Sitzung wurde beendet.` }),
    (d) => ({ en: `Ask the administrator to assign ${d.code} again, then connect again.`, de: `Bitten Sie den Administrator, ${d.code} erneut zuzuweisen, und verbinden Sie sich erneut.` })),
  SESS_USER_REMOVED: entry<{ userName: string }>(403,
    (d) => ({ en: `User "${d.userName}" was deleted or is no longer active; the session was ended.`, de: `Benutzer "${d.userName}" wurde gelöscht oder ist nicht mehr aktiv; die Sitzung wurde beendet.` }),
    fixed({ en: 'Ask the administrator.', de: 'Wenden Sie sich an den Administrator.' })),
  SESS_ENDED_BY_ADMIN: entry<{ by: string }>(403,
    (d) => ({ en: `Administrator "${d.by}" ended this session.`, de: `Administrator "${d.by}" hat diese Sitzung beendet.` }),
    fixed({ en: 'Connect again, or ask the administrator why.', de: 'Verbinden Sie sich erneut oder fragen Sie den Administrator nach dem Grund.' })),
  SESS_CREDENTIALS_REVOKED: entry<{ userName: string }>(401,
    (d) => ({ en: `The token or password this session of "${d.userName}" used was revoked or changed.`, de: `Das Token bzw. Passwort, mit dem sich "${d.userName}" angemeldet hat, wurde widerrufen oder geändert.` }),
    fixed({ en: 'Log in with the new credentials.', de: 'Melden Sie sich mit den neuen Zugangsdaten an.' })),
  SESS_NOT_FOUND: entry<{ id: string }>(404,
    (d) => ({ en: `There is no client session ${d.id} (it may have ended already).`, de: `Es gibt keine Client-Sitzung ${d.id} (sie ist vielleicht schon beendet).` }),
    fixed({ en: 'List the sessions again.', de: 'Lassen Sie die Sitzungen erneut auflisten.' })),
  SESS_TOKEN_NOT_FOUND: entry<{ id: number }>(404,
    (d) => ({ en: `There is no client token ${d.id}.`, de: `Es gibt kein Client-Token ${d.id}.` }),
    fixed({ en: "List the user's client tokens again.", de: 'Lassen Sie die Client-Tokens des Benutzers erneut auflisten.' })),
});

/** What the adapter (the socket) offers the registry: end this session with a refusal that says why. */
export interface SessionPort {
  end(why: Refusal): void;
}

export interface HelloRequest {
  kind: unknown;
  user: unknown;
  token?: unknown;
  password?: unknown;
  /** Remote address:port, for the admins' list. */
  from: string;
  /** Remote address alone: failed logins are limited per address. */
  address: string;
}

export interface ClientSessionInfo {
  id: string;
  userName: string;
  kind: ClientKind;
  code: string;
  since: string;
  from: string;
  via: 'token' | 'password';
}

interface LiveSession extends ClientSessionInfo {
  userId: number;
  tokenId: number | null;
  port: SessionPort;
  /** false until the license check passed: a pending session is counted and ended like any other. */
  open: boolean;
  ended: Refusal | null;
}

interface Identity {
  userId: number;
  userName: string;
  tokenId: number | null;
  via: 'token' | 'password';
}

export interface ClientToken {
  id: number;
  userName: string;
  label: string;
  createdAt: string;
  createdBy: string;
  lastUsedAt: string | null;
}

export interface ClientSessionOptions {
  maxPerUser: number;
  authFailuresPerMinute: number;
}

const TOKEN_PREFIX = 'pbxc_';
export const SESSION_SORTS = ['since', 'userName', 'kind'] as const;
const nameKey = (userName: string) => userName.toLowerCase();

/**
 * Live client sessions (desktop client, app, TAPI, operator console) keyed by
 * user, and the license decision: a session of kind K lives only while its user
 * holds REQUIRED_CODE[K] (a user_licenses row, not suspended, and a license in
 * force that grants the code at all — Entry grants none). Knows nothing of sockets:
 * the adapter hands in a SessionPort and the registry ends sessions through it.
 */
export class ClientSessions {
  private readonly byId = new Map<string, LiveSession>();
  private readonly byUser = new Map<string, Set<LiveSession>>();
  private readonly dummyHash: Promise<string> = hashPassword(randomBytes(8).toString('hex'));
  /** Failed logins per remote address (times in ms) in the last minute: scrypt is costly, guessing must be too. */
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly store: Store,
    private readonly licensing: Licensing,
    /** The owners of `users` and `user_licenses`: who a session's user is, and what it holds. */
    private readonly directory: Directory,
    private readonly userLicenses: UserLicenses,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly log: Logger,
    private readonly options: () => ClientSessionOptions,
  ) {
    // A removal names user and code: end those sessions at once, no query needed.
    bus.on('userLicenses.changed', (e) => {
      const changes = e.data.changes;
      const started = performance.now();
      let ended = 0;
      for (const c of changes) {
        const mine = c.assigned ? undefined : this.byUser.get(nameKey(c.userName));
        if (!mine) continue;
        const why = refuse('SESS_LICENSE_REMOVED', { userName: c.userName, code: c.code });
        for (const s of mine) if (s.code === c.code) ended += this.end(s, why);
      }
      if (ended) this.log.info('client sessions ended: license removed', { sessions: ended, ms: Math.round(performance.now() - started) });
    });
    // Anything else that may take an entitlement away: look at every live session again (one query).
    bus.on('mode.changed', () => void this.recheckAll());
    bus.on('license.activated', () => void this.recheckAll());
    bus.on('users.changed', (e) => {
      if (!['deleted', 'updated'].includes(e.data.action)) return;
      // The users the event names (all of them, unless a bulk change only gives the count).
      const names = e.data.userNames;
      void this.recheckAll(names.length === e.data.count ? names : undefined);
    });
  }

  /** How many sessions are open, by kind (the metrics gauge). */
  counts(): Record<ClientKind, number> {
    const out = Object.fromEntries(CLIENT_KINDS.map((k) => [k, 0])) as Record<ClientKind, number>;
    for (const s of this.byId.values()) if (s.open) out[s.kind]++;
    return out;
  }

  /** One page of the open sessions (kept in memory: they are what is in flight); sort since (default), userName or kind. */
  list(filter: { userName?: string; kind?: string } & PageAsk = {}): { total: number; sessions: ClientSessionInfo[]; limit: number; offset: number } {
    const page = pageOf(filter, SESSION_SORTS, { sort: 'since', order: 'asc' });
    const from = filter.userName ? [...(this.byUser.get(nameKey(filter.userName)) ?? [])] : [...this.byId.values()];
    const key = (s: ClientSessionInfo) => (page.sort === 'userName' ? nameKey(s.userName) : page.sort === 'kind' ? s.kind : s.since);
    const open = from
      .filter((s) => s.open && (!filter.kind || s.kind === filter.kind))
      .sort((a, b) => key(a).localeCompare(key(b)) || a.since.localeCompare(b.since) || a.id.localeCompare(b.id));
    if (page.order === 'desc') open.reverse();
    const sessions = open.slice(page.offset, page.offset + page.limit).map(({ id, userName, kind, code, since, from, via }) => ({ id, userName, kind, code, since, from, via }));
    return { total: open.length, sessions, limit: page.limit, offset: page.offset };
  }

  /**
   * Authenticate a hello, check the limit and the license, and register the
   * session. The session is registered (pending) BEFORE the license is read, so
   * a removal committed while we read still finds and ends it.
   */
  async open(hello: HelloRequest, port: SessionPort): Promise<ClientSessionInfo> {
    const kind = hello.kind;
    if (typeof kind !== 'string' || !Object.hasOwn(REQUIRED_CODE, kind)) throw refuse('SESS_KIND_INVALID', { kind: String(kind).slice(0, 40) });
    const who = await this.authenticateLimited(hello);
    const code = REQUIRED_CODE[kind as ClientKind];
    const key = nameKey(who.userName);
    const mine = this.byUser.get(key) ?? new Set<LiveSession>();
    const limit = this.options().maxPerUser;
    if (mine.size >= limit) throw refuse('SESS_TOO_MANY', { userName: who.userName, limit });
    const s: LiveSession = {
      id: randomUUID(), userName: who.userName, userId: who.userId, kind: kind as ClientKind, code, since: this.clock.now().toISOString(),
      from: hello.from, via: who.via, tokenId: who.tokenId, port, open: false, ended: null,
    };
    this.byId.set(s.id, s);
    this.byUser.set(key, mine.add(s));
    try {
      const held = await this.entitled([who.userId]);
      const entitlement = held.get(who.userId);
      if (!entitlement?.active) throw refuse('SESS_USER_NOT_ACTIVE', { userName: who.userName });
      if (!entitlement.codes.has(code) || s.ended?.code === 'SESS_LICENSE_REMOVED') throw refuse('SESS_NO_LICENSE', { userName: who.userName, kind, code });
      if (s.ended) throw s.ended;
    } catch (e) {
      this.forget(s);
      throw e;
    }
    s.open = true;
    this.noteActivity(who);
    this.bus.emit('sessions.changed', { action: 'opened', id: s.id, userName: s.userName, kind: s.kind });
    return { id: s.id, userName: s.userName, kind: s.kind, code, since: s.since, from: s.from, via: s.via };
  }

  /** The socket closed (by the client, a missed heartbeat, or after end()). */
  closed(id: string, reason: string): void {
    const s = this.byId.get(id);
    if (!s) return;
    this.forget(s);
    if (s.open) this.bus.emit('sessions.changed', { action: 'closed', id, userName: s.userName, kind: s.kind, reason });
  }

  /** An admin ends one session; audited. */
  async endByAdmin(id: string, by: string): Promise<void> {
    const s = this.byId.get(id);
    if (!s?.open) throw refuse('SESS_NOT_FOUND', { id: id.slice(0, 60) });
    await this.store.write(async (tx) => {
      await this.audit.append(tx, by, 'session.end', s.userName, { id, kind: s.kind, from: s.from });
    });
    this.end(s, refuse('SESS_ENDED_BY_ADMIN', { by }));
  }

  /** Issue a client token for a user; only its hash is kept, so it is shown once. */
  async issueToken(userName: string, label: string, by: string): Promise<ClientToken & { token: string }> {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const now = this.clock.now().toISOString();
    return this.store.write(async (tx) => {
      const user = await this.directory.find(tx, userName);
      const r = await tx.run('INSERT INTO client_tokens (user_id, token_hash, label, created_at, created_by) VALUES (?, ?, ?, ?, ?)', [user.id, tokenHash(token), label, now, by]);
      await this.audit.append(tx, by, 'client-token.issue', user.user_name, { id: r.lastID, label });
      return { id: r.lastID, userName: user.user_name, label, createdAt: now, createdBy: by, lastUsedAt: null, token };
    });
  }

  async tokens(userName: string): Promise<ClientToken[]> {
    const user = await this.directory.find(this.store, userName);
    const rows = await this.store.all<{ id: number; label: string; created_at: string; created_by: string; last_used_at: string | null }>(
      'SELECT id, label, created_at, created_by, last_used_at FROM client_tokens WHERE user_id = ? ORDER BY id', [user.id]);
    return rows.map((r) => ({ id: r.id, userName: user.user_name, label: r.label, createdAt: r.created_at, createdBy: r.created_by, lastUsedAt: r.last_used_at }));
  }

  /** Revoke a token; the sessions it opened end at once. */
  async revokeToken(id: number, by: string): Promise<void> {
    await this.store.write(async (tx) => {
      const row = await tx.get<{ user_id: number }>('SELECT user_id FROM client_tokens WHERE id = ?', [id]);
      if (!row) throw refuse('SESS_TOKEN_NOT_FOUND', { id });
      await tx.run('DELETE FROM client_tokens WHERE id = ?', [id]);
      await this.audit.append(tx, by, 'client-token.revoke', (await this.directory.nameOf(tx, row.user_id)) ?? String(row.user_id), { id });
      tx.afterCommit(() => {
        for (const s of [...this.byId.values()]) if (s.tokenId === id) this.end(s, refuse('SESS_CREDENTIALS_REVOKED', { userName: s.userName }));
      });
    });
  }

  /** Set a user's client password; sessions opened with the old one end. */
  async setPassword(userName: string, password: string, by: string): Promise<void> {
    if (password.length < 8) throw refuseCommon('REQ_INVALID', { field: 'password', problem: 'at least 8 characters' });
    const hash = await hashPassword(password);
    const now = this.clock.now().toISOString();
    await this.store.write(async (tx) => {
      const user = await this.directory.find(tx, userName);
      await tx.run('INSERT INTO user_credentials (user_id, password_hash, changed_at) VALUES (?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET password_hash = excluded.password_hash, changed_at = excluded.changed_at', [user.id, hash, now]);
      await this.audit.append(tx, by, 'user.password', user.user_name);
      tx.afterCommit(() => {
        for (const s of [...(this.byUser.get(nameKey(user.user_name)) ?? [])]) if (s.via === 'password') this.end(s, refuse('SESS_CREDENTIALS_REVOKED', { userName: s.userName }));
      });
    });
  }

  /** End every live session (of `userNames`, if given) whose user lost its entitlement; one query for all users. */
  async recheckAll(userNames?: string[]): Promise<void> {
    const sessions = userNames ? userNames.flatMap((n) => [...(this.byUser.get(nameKey(n)) ?? [])]) : [...this.byId.values()];
    if (sessions.length === 0) return;
    let held: Map<number, { active: boolean; codes: Set<string> }>;
    try {
      held = await this.entitled([...new Set(sessions.map((s) => s.userId))]);
    } catch (e) {
      this.log.error('client sessions: re-check failed', { error: String(e) });
      return;
    }
    for (const s of sessions) {
      const h = held.get(s.userId);
      if (!h?.active) this.end(s, refuse('SESS_USER_REMOVED', { userName: s.userName }));
      else if (!h.codes.has(s.code)) this.end(s, refuse('SESS_LICENSE_REMOVED', { userName: s.userName, code: s.code }));
    }
  }

  /** End one session through its port; 1 when it was open, 0 otherwise (for counting). */
  private end(s: LiveSession, why: Refusal): number {
    if (s.ended) return 0;
    s.ended = why;
    if (!s.open) return 0; // open() sees `ended` after its read and refuses
    this.closed(s.id, why.code);
    s.port.end(why);
    return 1;
  }

  private forget(s: LiveSession): void {
    this.byId.delete(s.id);
    const set = this.byUser.get(nameKey(s.userName));
    set?.delete(s);
    if (set && set.size === 0) this.byUser.delete(nameKey(s.userName));
  }

  /**
   * Per user: active or not, and the client codes in force. A code is in force
   * when the user's row is not suspended and the license in force grants it.
   */
  private async entitled(userIds: number[]): Promise<Map<number, { active: boolean; codes: Set<string> }>> {
    const granted = this.licensing.quotas().perUser;
    const held = await this.userLicenses.entitlements(userIds, ['clientbundle', 'vap']);
    for (const e of held.values()) for (const code of e.codes) if ((granted[code] ?? 0) <= 0) e.codes.delete(code);
    return held;
  }

  private async authenticateLimited(hello: HelloRequest): Promise<Identity> {
    const now = Date.now();
    const recent = (this.failures.get(hello.address) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= this.options().authFailuresPerMinute) throw refuse('SESS_AUTH_RATE_LIMITED', { retryAfterSeconds: Math.ceil((60_000 - (now - recent[0]!)) / 1000) });
    try {
      return await this.authenticate(hello);
    } catch (e) {
      this.failures.set(hello.address, [...recent, now]);
      // forget quiet addresses, so the map cannot grow without bound
      if (this.failures.size > 10_000) for (const [a, times] of this.failures) if (now - times[times.length - 1]! >= 60_000) this.failures.delete(a);
      throw e;
    }
  }

  private async authenticate(hello: HelloRequest): Promise<Identity> {
    const { user, token, password } = hello;
    if (typeof user !== 'string' || user.length === 0 || user.length > 200) throw refuse('SESS_AUTH_INVALID');
    if (typeof token === 'string' && token.length > 0 && token.length <= 200) {
      const row = await this.store.get<{ id: number; user_id: number }>('SELECT id, user_id FROM client_tokens WHERE token_hash = ?', [tokenHash(token)]);
      const userName = row ? await this.directory.nameOf(this.store, row.user_id) : null;
      if (!row || userName === null || nameKey(userName) !== nameKey(user)) throw refuse('SESS_AUTH_INVALID');
      return { userId: row.user_id, userName, tokenId: row.id, via: 'token' };
    }
    if (typeof password === 'string' && password.length > 0 && password.length <= 1024) {
      const found = await this.directory.lookup(this.store, user);
      const credential = found && (await this.store.get<{ password_hash: string }>('SELECT password_hash FROM user_credentials WHERE user_id = ?', [found.id]));
      const row = found && credential ? { id: found.id, user_name: found.user_name, password_hash: credential.password_hash } : null;
      // Unknown users cost as much time as known ones: the answer does not tell which names exist.
      const ok = await checkPassword(password, row?.password_hash ?? (await this.dummyHash));
      if (!row || !ok) throw refuse('SESS_AUTH_INVALID');
      return { userId: row.id, userName: row.user_name, tokenId: null, via: 'password' };
    }
    throw refuse('SESS_AUTH_INVALID');
  }

  /** Last activity of user and token (the license plan releases the least recently active first). */
  private noteActivity(who: Identity): void {
    const now = this.clock.now().toISOString();
    this.store
      .write(async (tx) => {
        await this.directory.noteActive(tx, who.userId, now);
        if (who.tokenId !== null) await tx.run('UPDATE client_tokens SET last_used_at = ? WHERE id = ?', [now, who.tokenId]);
      })
      .catch((e) => this.log.debug('client sessions: last activity not recorded', { error: String(e) }));
  }
}
