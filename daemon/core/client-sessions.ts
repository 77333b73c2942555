import { randomUUID } from 'node:crypto';
import { pageOf, type PageAsk } from './paging.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import type { EventBus } from '../kernel/events.js';
import type { AuditLog } from './audit.js';
import type { Licensing } from '../licensing/licensing.js';
import type { Directory } from './users/directory.js';
import type { UserLicenses } from './users/user-licenses.js';
import type { Logger } from '../kernel/log.js';
import type { Refusal } from '../kernel/refusal.js';
import { CLIENT_KINDS, REQUIRED_CODE, refuse, type ClientKind } from './client-session-refusals.js';
import { ClientCredentials, nameKey, type ClientToken, type Identity } from './client-credentials.js';

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

export interface ClientSessionOptions {
  maxPerUser: number;
  authFailuresPerMinute: number;
}

export const SESSION_SORTS = ['since', 'userName', 'kind'] as const;

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
  private readonly credentials: ClientCredentials;

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
    this.credentials = new ClientCredentials(store, directory, clock, audit, () => options().authFailuresPerMinute);
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
    const who = await this.credentials.authenticate(hello);
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

  // Client tokens and passwords: kept by ClientCredentials; a changed one ends the sessions it opened.

  issueToken(userName: string, label: string, by: string): Promise<ClientToken & { token: string }> {
    return this.credentials.issueToken(userName, label, by);
  }

  tokens(userName: string): Promise<ClientToken[]> {
    return this.credentials.tokens(userName);
  }

  async revokeToken(id: number, by: string): Promise<void> {
    await this.credentials.revokeToken(id, by, () => {
      for (const s of [...this.byId.values()]) if (s.tokenId === id) this.end(s, refuse('SESS_CREDENTIALS_REVOKED', { userName: s.userName }));
    });
  }

  async setPassword(userName: string, password: string, by: string): Promise<void> {
    await this.credentials.setPassword(userName, password, by, (name) => {
      for (const s of [...(this.byUser.get(nameKey(name)) ?? [])]) if (s.via === 'password') this.end(s, refuse('SESS_CREDENTIALS_REVOKED', { userName: s.userName }));
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

  /** Last activity of user and token (the license plan releases the least recently active first). */
  private noteActivity(who: Identity): void {
    const now = this.clock.now().toISOString();
    this.store
      .write(async (tx) => {
        await this.directory.noteActive(tx, who.userId, now);
        if (who.tokenId !== null) await this.credentials.noteTokenUse(tx, who.tokenId, now);
      })
      .catch((e) => this.log.debug('client sessions: last activity not recorded', { error: String(e) }));
  }
}
