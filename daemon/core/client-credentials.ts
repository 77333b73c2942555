import { randomBytes } from 'node:crypto';
import { sourceKey } from './login-throttle.js';
import type { Store, Tx } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import type { AuditLog } from './audit.js';
import type { Directory } from './users/directory.js';
import { refuse as refuseCommon } from '../kernel/refusal.js';
import { checkPasswordOf, hashPassword, tokenHash } from './passwords.js';
import { refuse } from './client-session-refusals.js';

/**
 * What a client logs in with: admin-issued client tokens and the user's
 * client password (the owner of `client_tokens` and `user_credentials`).
 * Failed logins are limited per address; the sessions a changed credential
 * opened are ended by the session registry, told through `ended`.
 */

/** Who a hello proved to be, and with what. */
export interface Identity {
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

export interface Credentials {
  user: unknown;
  token?: unknown;
  password?: unknown;
  /** Remote address alone: failed logins are limited per address. */
  address: string;
}

const TOKEN_PREFIX = 'pbxc_';
/** Users are one by name whatever the case. */
export const nameKey = (userName: string) => userName.toLowerCase();

export class ClientCredentials {
  /** Failed logins per remote address (times in ms) in the last minute: scrypt is costly, guessing must be too. */
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly store: Store,
    /** The owner of `users`: who a token's or password's user is. */
    private readonly directory: Directory,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly failuresPerMinute: () => number,
  ) {}

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

  /** Revoke a token; `ended` runs once the revocation is committed. */
  async revokeToken(id: number, by: string, ended: () => void): Promise<void> {
    await this.store.write(async (tx) => {
      const row = await tx.get<{ user_id: number }>('SELECT user_id FROM client_tokens WHERE id = ?', [id]);
      if (!row) throw refuse('SESS_TOKEN_NOT_FOUND', { id });
      await tx.run('DELETE FROM client_tokens WHERE id = ?', [id]);
      await this.audit.append(tx, by, 'client-token.revoke', (await this.directory.nameOf(tx, row.user_id)) ?? String(row.user_id), { id });
      tx.afterCommit(ended);
    });
  }

  /** Set a user's client password; `ended` runs (with the user's name) once it is committed. */
  async setPassword(userName: string, password: string, by: string, ended: (userName: string) => void): Promise<void> {
    if (password.length < 8) throw refuseCommon('REQ_INVALID', { field: 'password', problem: 'at least 8 characters' });
    const hash = await hashPassword(password);
    const now = this.clock.now().toISOString();
    await this.store.write(async (tx) => {
      const user = await this.directory.find(tx, userName);
      await tx.run('INSERT INTO user_credentials (user_id, password_hash, changed_at) VALUES (?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET password_hash = excluded.password_hash, changed_at = excluded.changed_at', [user.id, hash, now]);
      await this.audit.append(tx, by, 'user.password', user.user_name);
      tx.afterCommit(() => ended(user.user_name));
    });
  }

  /** Who the credentials prove to be; a failure counts against the address, and too many are refused before any check. */
  async authenticate(hello: Credentials): Promise<Identity> {
    const now = Date.now();
    const source = sourceKey(hello.address); // as the admin login throttle counts: an IPv6 host owns its whole /64
    const recent = (this.failures.get(source) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= this.failuresPerMinute()) throw refuse('SESS_AUTH_RATE_LIMITED', { retryAfterSeconds: Math.ceil((60_000 - (now - recent[0]!)) / 1000) });
    try {
      return await this.check(hello);
    } catch (e) {
      this.failures.set(source, [...recent, now]);
      // forget quiet addresses, so the map cannot grow without bound
      if (this.failures.size > 10_000) for (const [a, times] of this.failures) if (now - times[times.length - 1]! >= 60_000) this.failures.delete(a);
      throw e;
    }
  }

  private async check(hello: Credentials): Promise<Identity> {
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
      const ok = await checkPasswordOf(password, found && credential ? credential.password_hash : undefined);
      if (!found || !ok) throw refuse('SESS_AUTH_INVALID');
      return { userId: found.id, userName: found.user_name, tokenId: null, via: 'password' };
    }
    throw refuse('SESS_AUTH_INVALID');
  }

  /** The token was used now (inside the caller's write). */
  async noteTokenUse(tx: Tx, tokenId: number, at: string): Promise<void> {
    await tx.run('UPDATE client_tokens SET last_used_at = ? WHERE id = ?', [at, tokenId]);
  }
}
