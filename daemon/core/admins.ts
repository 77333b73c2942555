import { randomBytes } from 'node:crypto';
import type { Store, Tx } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import type { AuditLog } from './audit.js';
import { defineRefusals, entry, fixed, refuse } from '../kernel/refusal.js';
import { LoginThrottle } from './login-throttle.js';
import { passwordProblem } from './password-policy.js';
import { checkPasswordOf, hashPassword, tokenHash } from './passwords.js';

export interface Principal {
  admin: string;
  /** The admin_tokens row (none for the local CLI). */
  tokenId?: number;
  kind: 'session' | 'api' | 'local';
  /** For browser sessions: the token a state-changing request must echo. */
  csrf?: string;
}

const refuseAdmin = defineRefusals({
  ADMIN_PASSWORD_WEAK: entry<{ problem: string }>(422,
    (d) => ({ en: `This password is too weak: ${d.problem}.`, de: `Dieses Passwort ist zu schwach: ${translateProblem(d.problem)}.` }),
    fixed({ en: 'Choose a password of at least 12 characters that is not a common word or pattern, e.g. four unrelated words.', de: 'Wählen Sie ein Passwort mit mindestens 12 Zeichen, das kein gängiges Wort oder Muster ist, z. B. vier zusammenhanglose Wörter.' })),
  ADMIN_REAUTH_REQUIRED: entry(403, fixed({ en: 'This change needs your current password.', de: 'Diese Änderung erfordert Ihr aktuelles Passwort.' }),
    fixed({ en: 'Send your own current password as currentPassword.', de: 'Senden Sie Ihr eigenes aktuelles Passwort als currentPassword.' })),
  ADMIN_REAUTH_FAILED: entry(403, fixed({ en: 'Your current password is not correct; nothing was changed.', de: 'Ihr aktuelles Passwort ist nicht korrekt; es wurde nichts geändert.' }),
    fixed({ en: 'Enter your own current password.', de: 'Geben Sie Ihr eigenes aktuelles Passwort ein.' })),
  ADMIN_LAST: entry<{ name: string }>(409,
    (d) => ({ en: `${d.name} is the last active admin and cannot be removed or disabled.`, de: `${d.name} ist der letzte aktive Administrator und kann nicht entfernt oder deaktiviert werden.` }),
    fixed({ en: 'Add another admin first.', de: 'Legen Sie zuerst einen weiteren Administrator an.' })),
});

function translateProblem(p: string): string {
  const de: Record<string, string> = {
    'too few different characters': 'zu wenige verschiedene Zeichen',
    'too close to the admin name': 'zu ähnlich zum Administratornamen',
    'a common password': 'ein gängiges Passwort',
    'a repeated pattern': 'ein wiederholtes Muster',
  };
  return de[p] ?? p.replace(/^at least (\d+) characters besides leading and trailing blanks$/, 'mindestens $1 Zeichen ohne führende und folgende Leerzeichen').replace(/^at least (\d+) characters$/, 'mindestens $1 Zeichen');
}

interface AdminOptions {
  sessionHours: number;
  /** Failures free of delay, per source and per account (the name is historical). */
  loginFailuresPerMinute: number;
  loginMaxDelaySeconds: number;
  /** Default lifetime of an API token. */
  tokenDays: number;
}

interface AdminView {
  name: string;
  createdAt: string;
  passwordChangedAt: string;
  disabled: boolean;
  lastLoginAt: string | null;
}

export interface TokenView {
  id: number;
  admin: string;
  label: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

/** A remembered token is looked up again after this long (a safety net; every revocation here evicts it at once). */
const TOKEN_RECHECK_MS = 30_000;
const TOKENS_KEPT = 1000;
export const MAX_TOKEN_DAYS = 3650;
const NAME = /^[a-z0-9._-]{1,64}$/i;

/** The one local principal: whoever can open the control socket (its file mode is the access control). */
export const LOCAL_CLI: Principal = { admin: 'root@cli', kind: 'local' };

interface TokenRow {
  id: number;
  name: string;
  kind: 'session' | 'api';
  csrf: string;
  expires_at: string | null;
}

/**
 * Admin accounts, browser sessions and API tokens. Passwords are hashed with
 * scrypt; tokens are random and only their hash is stored. Failed logins are
 * slowed down per source and per account (LoginThrottle), never so that the
 * right password from a clean source fails. Changes of admins need the acting
 * admin's current password, except from the local CLI.
 */
export class AdminAccounts {
  readonly throttle: LoginThrottle;
  /**
   * Tokens seen recently (by hash), so a busy API client costs no query per
   * request. Every way a token ends (logout, revocation, password change,
   * disabling, deletion) goes through this class and evicts it; expiry is
   * checked on every use.
   */
  private readonly recentTokens = new Map<string, { principal: Principal; expiresAt: Date | null; seenAt: number }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private opts: AdminOptions,
  ) {
    this.throttle = new LoginThrottle(() => ({ freeFailures: this.opts.loginFailuresPerMinute, maxDelaySeconds: this.opts.loginMaxDelaySeconds }));
  }

  setOptions(opts: AdminOptions): void {
    this.opts = { ...opts };
  }

  /** First start: create `admin`. Returns the password when one was generated (to be shown once). */
  async ensureInitialAdmin(configured: string): Promise<{ created: boolean; generatedPassword: string | null; weak: string | null }> {
    const any = await this.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM admins');
    if ((any?.n ?? 0) > 0) return { created: false, generatedPassword: null, weak: null };
    const password = configured || randomBytes(12).toString('base64url');
    // The configured one is root's choice (the config file is root's); it is reported, not refused.
    await this.writePassword('admin', password, 'pbxd');
    return { created: true, generatedPassword: configured ? null : password, weak: configured ? passwordProblem(configured, 'admin') : null };
  }

  /**
   * Create an admin or change its password (policy checked); ends its sessions
   * and tokens when it changes. `by` must have been re-authenticated by the caller.
   */
  async setPassword(name: string, password: string, by: string): Promise<'created' | 'changed'> {
    if (!NAME.test(name)) throw refuse('REQ_INVALID', { field: 'name', problem: 'use letters, digits, dot, dash, underscore (1–64)' });
    const problem = passwordProblem(password, name);
    if (problem) throw refuseAdmin('ADMIN_PASSWORD_WEAK', { problem });
    return this.writePassword(name, password, by);
  }

  /** Create an admin; 409 when the name is taken. */
  async create(name: string, password: string, by: string): Promise<void> {
    if (await this.store.get('SELECT 1 FROM admins WHERE name = ?', [name])) throw refuse('REQ_CONFLICT', { what: `Admin ${name}` });
    await this.setPassword(name, password, by);
  }

  private async writePassword(name: string, password: string, by: string): Promise<'created' | 'changed'> {
    const hash = await hashPassword(password);
    const now = this.clock.now().toISOString();
    return this.store.write(async (tx) => {
      const existing = await tx.get<{ id: number }>('SELECT id FROM admins WHERE name = ?', [name]);
      if (existing) {
        await tx.run('UPDATE admins SET password_hash = ?, password_changed_at = ? WHERE id = ?', [hash, now, existing.id]);
        await tx.run('DELETE FROM admin_tokens WHERE admin_id = ?', [existing.id]);
        tx.afterCommit(() => this.forgetTokensOf(name));
      } else {
        await tx.run('INSERT INTO admins (name, password_hash, created_at, password_changed_at) VALUES (?, ?, ?, ?)', [name, hash, now, now]);
      }
      await this.audit.append(tx, by, existing ? 'admin.password' : 'admin.create', name);
      return existing ? 'changed' : 'created';
    });
  }

  /** A page of admins, by name. */
  async list(page: { limit?: number; offset?: number } = {}): Promise<{ admins: AdminView[]; total: number }> {
    const limit = Math.min(Math.max(page.limit ?? 100, 1), 500);
    const rows = await this.store.all<{ name: string; created_at: string; password_changed_at: string; disabled_at: string | null; last_login_at: string | null }>(
      'SELECT name, created_at, password_changed_at, disabled_at, last_login_at FROM admins ORDER BY name LIMIT ? OFFSET ?',
      [limit, page.offset ?? 0],
    );
    const total = (await this.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM admins'))!.n;
    return { admins: rows.map((r) => ({ name: r.name, createdAt: r.created_at, passwordChangedAt: r.password_changed_at, disabled: r.disabled_at !== null, lastLoginAt: r.last_login_at })), total };
  }

  /** Disable (or enable again) an admin; disabling ends its sessions and tokens. Never the last active admin. */
  async setDisabled(name: string, disabled: boolean, by: string): Promise<void> {
    await this.store.write(async (tx) => {
      const row = await tx.get<{ id: number; disabled_at: string | null }>('SELECT id, disabled_at FROM admins WHERE name = ?', [name]);
      if (!row) throw refuse('REQ_NOT_FOUND', { what: `Admin ${name}` });
      if ((row.disabled_at !== null) === disabled) return;
      if (disabled) {
        await this.assertNotLast(tx, row.id, name);
        await tx.run('UPDATE admins SET disabled_at = ? WHERE id = ?', [this.clock.now().toISOString(), row.id]);
        await tx.run('DELETE FROM admin_tokens WHERE admin_id = ?', [row.id]);
        tx.afterCommit(() => this.forgetTokensOf(name));
      } else {
        await tx.run('UPDATE admins SET disabled_at = NULL WHERE id = ?', [row.id]);
      }
      await this.audit.append(tx, by, disabled ? 'admin.disable' : 'admin.enable', name);
    });
  }

  /** Delete an admin with its sessions and tokens. Never the last active admin. */
  async remove(name: string, by: string): Promise<void> {
    await this.store.write(async (tx) => {
      const row = await tx.get<{ id: number; disabled_at: string | null }>('SELECT id, disabled_at FROM admins WHERE name = ?', [name]);
      if (!row) throw refuse('REQ_NOT_FOUND', { what: `Admin ${name}` });
      if (row.disabled_at === null) await this.assertNotLast(tx, row.id, name);
      await tx.run('DELETE FROM admin_tokens WHERE admin_id = ?', [row.id]);
      await tx.run('DELETE FROM admins WHERE id = ?', [row.id]);
      await this.audit.append(tx, by, 'admin.delete', name);
      tx.afterCommit(() => this.forgetTokensOf(name));
    });
  }

  /** Inside the write: the check and the change are one step, so two admins removing each other cannot both succeed. */
  private async assertNotLast(tx: Tx, id: number, name: string): Promise<void> {
    const others = await tx.get<{ n: number }>('SELECT COUNT(*) AS n FROM admins WHERE disabled_at IS NULL AND id <> ?', [id]);
    if ((others?.n ?? 0) === 0) throw refuseAdmin('ADMIN_LAST', { name });
  }

  /**
   * Check credentials and open a session or an API token. Slowed down per
   * source and account; a disabled admin fails like a wrong password.
   */
  async login(name: string, password: string, from: string, kind: 'session' | 'api', label = '', expiresInDays: number | null = null): Promise<{ token: string; csrf: string; expiresAt: string | null }> {
    const id = await this.checkCredentials(name, password, from);
    if (id === null) throw refuse('AUTH_INVALID');
    this.throttle.succeeded(from, name);
    return this.issueToken(id, name, kind, label, expiresInDays, { from });
  }

  /**
   * Re-authentication for a change: the acting admin's current password,
   * under the same throttle as logins. The local CLI needs none.
   */
  async reauthenticate(p: Principal, currentPassword: string | undefined, from: string): Promise<void> {
    if (p.kind === 'local') return;
    if (!currentPassword) throw refuseAdmin('ADMIN_REAUTH_REQUIRED');
    if ((await this.checkCredentials(p.admin, currentPassword, from, true)) === null) throw refuseAdmin('ADMIN_REAUTH_FAILED');
  }

  /** The admin's id when name and password match an active admin; null otherwise (recorded as a failure). */
  private async checkCredentials(name: string, password: string, from: string, reauth = false): Promise<number | null> {
    const wait = this.throttle.wait(from, name);
    if (wait > 0) throw refuse('AUTH_RATE_LIMITED', { retryAfterSeconds: wait });
    const row = await this.store.get<{ id: number; password_hash: string; disabled_at: string | null }>('SELECT id, password_hash, disabled_at FROM admins WHERE name = ?', [name]);
    const ok = await checkPasswordOf(password, row?.password_hash);
    if (row && ok && row.disabled_at === null) return row.id;
    // Unknown names are not remembered (only the source is): a flood of names costs no memory.
    this.throttle.failed(from, row ? name : null);
    if (row) await this.store.write((tx) => this.audit.append(tx, name, 'admin.login.failed', name, { from, ...(reauth ? { reauth: true } : {}), ...(row.disabled_at ? { disabled: true } : {}) }));
    return null;
  }

  /** Open a session (sessionHours) or an API token (expiresInDays, default tokenDays); prunes expired tokens. */
  async issueToken(adminId: number, name: string, kind: 'session' | 'api', label: string, expiresInDays: number | null = null, details: Record<string, unknown> = {}): Promise<{ token: string; csrf: string; expiresAt: string | null; id: number }> {
    const token = randomBytes(32).toString('base64url');
    const csrf = randomBytes(18).toString('base64url');
    const now = this.clock.now();
    const lifetimeMs = kind === 'session' ? this.opts.sessionHours * 3600_000 : (expiresInDays ?? this.opts.tokenDays) * 86_400_000;
    const expiresAt = new Date(now.getTime() + lifetimeMs).toISOString();
    const id = await this.store.write(async (tx) => {
      await tx.run('DELETE FROM admin_tokens WHERE admin_id = ? AND expires_at <= ?', [adminId, now.toISOString()]);
      const r = await tx.run('INSERT INTO admin_tokens (admin_id, kind, token_hash, label, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        adminId, kind, tokenHash(token), label, csrf, now.toISOString(), expiresAt,
      ]);
      if (details.from !== undefined) {
        await tx.run('UPDATE admins SET last_login_at = ? WHERE id = ?', [now.toISOString(), adminId]);
        await this.audit.append(tx, name, 'admin.login', name, { kind, ...details });
      }
      if (kind === 'api') await this.audit.append(tx, typeof details.by === 'string' ? details.by : name, 'admin.token.create', name, { label, expiresAt });
      return r.lastID;
    });
    return { token, csrf, expiresAt, id };
  }

  /** An API token for `name`: for the admin itself, or for anyone from the local CLI. */
  async createApiToken(name: string, label: string, expiresInDays: number | null, by: string): Promise<{ token: string; id: number; expiresAt: string }> {
    if (expiresInDays !== null && (!Number.isInteger(expiresInDays) || expiresInDays < 1 || expiresInDays > MAX_TOKEN_DAYS))
      throw refuse('REQ_INVALID', { field: 'expiresInDays', problem: `a whole number of days 1..${MAX_TOKEN_DAYS}` });
    const row = await this.store.get<{ id: number; disabled_at: string | null }>('SELECT id, disabled_at FROM admins WHERE name = ?', [name]);
    if (!row) throw refuse('REQ_NOT_FOUND', { what: `Admin ${name}` });
    if (row.disabled_at !== null) throw refuse('REQ_INVALID', { field: 'admin', problem: `${name} is disabled` });
    const t = await this.issueToken(row.id, name, 'api', label, expiresInDays, by === name ? {} : { by });
    return { token: t.token, id: t.id, expiresAt: t.expiresAt! };
  }

  /** Unexpired browser sessions and API tokens, per kind (a metric). */
  async liveTokens(): Promise<Record<'session' | 'api', number>> {
    const rows = await this.store.all<{ kind: 'session' | 'api'; n: number }>('SELECT kind, COUNT(*) AS n FROM admin_tokens WHERE expires_at IS NULL OR expires_at > ? GROUP BY kind', [this.clock.now().toISOString()]);
    return { session: 0, api: 0, ...Object.fromEntries(rows.map((r) => [r.kind, r.n])) };
  }

  async listTokens(admin: string | null, page: { limit?: number; beforeId?: number } = {}): Promise<TokenView[]> {
    const limit = Math.min(Math.max(page.limit ?? 100, 1), 500);
    const rows = await this.store.all<{ id: number; name: string; label: string | null; created_at: string; expires_at: string | null; last_used_at: string | null }>(
      `SELECT t.id, a.name, t.label, t.created_at, t.expires_at, t.last_used_at FROM admin_tokens t JOIN admins a ON a.id = t.admin_id
       WHERE t.kind = 'api' AND (? IS NULL OR a.name = ?) AND t.id < ? ORDER BY t.id DESC LIMIT ?`,
      [admin, admin, page.beforeId ?? Number.MAX_SAFE_INTEGER, limit],
    );
    return rows.map((r) => ({ id: r.id, admin: r.name, label: r.label ?? '', createdAt: r.created_at, expiresAt: r.expires_at, lastUsedAt: r.last_used_at }));
  }

  /** Revoke an API token; `owner` null: any admin's (local CLI). */
  async revokeToken(id: number, owner: string | null, by: string): Promise<void> {
    await this.store.write(async (tx) => {
      const row = await tx.get<{ token_hash: string; name: string; label: string | null }>(
        "SELECT t.token_hash, a.name, t.label FROM admin_tokens t JOIN admins a ON a.id = t.admin_id WHERE t.id = ? AND t.kind = 'api' AND (? IS NULL OR a.name = ?)",
        [id, owner, owner],
      );
      if (!row) throw refuse('REQ_NOT_FOUND', { what: `API token ${id}` });
      await tx.run('DELETE FROM admin_tokens WHERE id = ?', [id]);
      await this.audit.append(tx, by, 'admin.token.revoke', row.name, { id, label: row.label ?? '' });
      tx.afterCommit(() => this.recentTokens.delete(row.token_hash));
    });
  }

  async authenticate(token: string): Promise<Principal | null> {
    if (!token) return null;
    const hash = tokenHash(token);
    const now = this.clock.now();
    const seen = this.recentTokens.get(hash);
    if (seen && Date.now() - seen.seenAt < TOKEN_RECHECK_MS) return seen.expiresAt && seen.expiresAt <= now ? null : seen.principal;
    const row = await this.store.get<TokenRow>(
      'SELECT t.id, a.name, t.kind, t.csrf, t.expires_at FROM admin_tokens t JOIN admins a ON a.id = t.admin_id WHERE t.token_hash = ? AND a.disabled_at IS NULL',
      [hash],
    );
    if (!row) {
      this.recentTokens.delete(hash);
      return null;
    }
    const principal: Principal = { admin: row.name, kind: row.kind, csrf: row.csrf, tokenId: row.id };
    const expiresAt = row.expires_at ? new Date(row.expires_at) : null;
    if (this.recentTokens.size >= TOKENS_KEPT) this.recentTokens.clear();
    this.recentTokens.set(hash, { principal, expiresAt, seenAt: Date.now() });
    if (expiresAt && expiresAt <= now) return null;
    // Last use, at most once per recheck interval per token: no write per request.
    void this.store.write((tx) => tx.run('UPDATE admin_tokens SET last_used_at = ? WHERE id = ?', [now.toISOString(), row.id])).catch(() => undefined);
    return principal;
  }

  async logout(token: string): Promise<void> {
    const hash = tokenHash(token);
    await this.store.write(async (tx) => {
      await tx.run('DELETE FROM admin_tokens WHERE token_hash = ?', [hash]);
      tx.afterCommit(() => this.recentTokens.delete(hash));
    });
  }

  private forgetTokensOf(admin: string): void {
    for (const [hash, t] of this.recentTokens) if (t.principal.admin === admin) this.recentTokens.delete(hash);
  }
}
