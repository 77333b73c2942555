import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Store } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import type { AuditLog } from './audit.js';
import { refuse } from '../kernel/refusal.js';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: { N: number; r: number; p: number }) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1 };

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function checkPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, key] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const got = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(got, expected);
}

/** Only this hash of a token is stored (admin sessions and API tokens, client tokens). */
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export interface Principal {
  admin: string;
  kind: 'session' | 'api' | 'local';
  /** For browser sessions: the token a state-changing request must echo. */
  csrf?: string;
}

/** A remembered token is looked up again after this long (a safety net; every revocation here evicts it at once). */
const TOKEN_RECHECK_MS = 30_000;
const TOKENS_KEPT = 1000;

/** The one local principal: whoever can open the control socket (its file mode is the access control). */
export const LOCAL_CLI: Principal = { admin: 'root@cli', kind: 'local' };

/**
 * Admin accounts, browser sessions and API tokens. Passwords are hashed with
 * scrypt; tokens are random and only their hash is stored. Failed logins are
 * limited per source and per name.
 */
export class AdminAccounts {
  private readonly failures = new Map<string, number[]>();
  /**
   * Tokens seen recently (by hash), so a busy API client costs no query per
   * request. Every way a token ends (logout, password change) goes through
   * this class and evicts it; expiry is checked on every use.
   */
  private readonly recentTokens = new Map<string, { principal: Principal; expiresAt: Date | null; seenAt: number }>();
  /** A dummy hash so a login for an unknown name takes as long as for a known one. */
  private dummyHash: Promise<string> = hashPassword(randomBytes(8).toString('hex'));

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private opts: { sessionHours: number; loginFailuresPerMinute: number },
  ) {}

  setOptions(opts: { sessionHours: number; loginFailuresPerMinute: number }): void {
    this.opts = opts;
  }

  /** First start: create `admin`. Returns the password when one was generated (to be shown once). */
  async ensureInitialAdmin(configured: string): Promise<{ created: boolean; generatedPassword: string | null }> {
    const any = await this.store.get<{ n: number }>('SELECT COUNT(*) AS n FROM admins');
    if ((any?.n ?? 0) > 0) return { created: false, generatedPassword: null };
    const password = configured || randomBytes(12).toString('base64url');
    await this.setPassword('admin', password, 'pbxd');
    return { created: true, generatedPassword: configured ? null : password };
  }

  /** Create the admin or change its password; ends its sessions and tokens when it changes. */
  async setPassword(name: string, password: string, by: string): Promise<void> {
    if (!/^[a-z0-9._-]{1,64}$/i.test(name)) throw refuse('REQ_INVALID', { field: 'name', problem: 'use letters, digits, dot, dash, underscore (1–64)' });
    if (password.length < 8) throw refuse('REQ_INVALID', { field: 'password', problem: 'at least 8 characters' });
    const hash = await hashPassword(password);
    const now = this.clock.now().toISOString();
    await this.store.write(async (tx) => {
      const existing = await tx.get<{ id: number }>('SELECT id FROM admins WHERE name = ?', [name]);
      if (existing) {
        await tx.run('UPDATE admins SET password_hash = ?, password_changed_at = ? WHERE id = ?', [hash, now, existing.id]);
        await tx.run('DELETE FROM admin_tokens WHERE admin_id = ?', [existing.id]);
        tx.afterCommit(() => this.forgetTokensOf(name));
      } else {
        await tx.run('INSERT INTO admins (name, password_hash, created_at, password_changed_at) VALUES (?, ?, ?, ?)', [name, hash, now, now]);
      }
      await this.audit.append(tx, by, existing ? 'admin.password' : 'admin.create', name);
    });
  }

  async list(): Promise<Array<{ name: string; createdAt: string }>> {
    return (await this.store.all<{ name: string; created_at: string }>('SELECT name, created_at FROM admins ORDER BY name')).map((r) => ({ name: r.name, createdAt: r.created_at }));
  }

  private limited(key: string): number {
    const now = Date.now();
    const recent = (this.failures.get(key) ?? []).filter((t) => now - t < 60_000);
    this.failures.set(key, recent);
    if (recent.length >= this.opts.loginFailuresPerMinute) return Math.ceil((60_000 - (now - recent[0]!)) / 1000);
    return 0;
  }

  /** Check credentials (rate limited per source and per name) and open a session or an API token. */
  async login(name: string, password: string, from: string, kind: 'session' | 'api', label = ''): Promise<{ token: string; csrf: string; expiresAt: string | null }> {
    const wait = Math.max(this.limited(`src:${from}`), this.limited(`name:${name}`));
    if (wait > 0) throw refuse('AUTH_RATE_LIMITED', { retryAfterSeconds: wait });
    const row = await this.store.get<{ id: number; password_hash: string }>('SELECT id, password_hash FROM admins WHERE name = ?', [name]);
    const ok = await checkPassword(password, row?.password_hash ?? (await this.dummyHash));
    if (!row || !ok) {
      for (const k of [`src:${from}`, `name:${name}`]) this.failures.set(k, [...(this.failures.get(k) ?? []), Date.now()]);
      throw refuse('AUTH_INVALID');
    }
    return this.issueToken(row.id, name, kind, label);
  }

  async issueToken(adminId: number, name: string, kind: 'session' | 'api', label: string): Promise<{ token: string; csrf: string; expiresAt: string | null }> {
    const token = randomBytes(32).toString('base64url');
    const csrf = randomBytes(18).toString('base64url');
    const now = this.clock.now();
    const expiresAt = kind === 'session' ? new Date(now.getTime() + this.opts.sessionHours * 3600_000).toISOString() : null;
    await this.store.write(async (tx) => {
      await tx.run('INSERT INTO admin_tokens (admin_id, kind, token_hash, label, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        adminId, kind, tokenHash(token), label, csrf, now.toISOString(), expiresAt,
      ]);
      if (kind === 'api') await this.audit.append(tx, name, 'admin.token.create', name, { label });
    });
    return { token, csrf, expiresAt };
  }

  /** An API token for `name` without a password: only for the local CLI (`pbxctl token create`). */
  async createApiToken(name: string, label: string): Promise<string> {
    const row = await this.store.get<{ id: number }>('SELECT id FROM admins WHERE name = ?', [name]);
    if (!row) throw refuse('REQ_NOT_FOUND', { what: `Admin ${name}` });
    return (await this.issueToken(row.id, name, 'api', label)).token;
  }

  async authenticate(token: string): Promise<Principal | null> {
    if (!token) return null;
    const hash = tokenHash(token);
    const now = this.clock.now();
    const seen = this.recentTokens.get(hash);
    if (seen && Date.now() - seen.seenAt < TOKEN_RECHECK_MS) return seen.expiresAt && seen.expiresAt <= now ? null : seen.principal;
    const row = await this.store.get<{ name: string; kind: 'session' | 'api'; csrf: string; expires_at: string | null }>(
      'SELECT a.name, t.kind, t.csrf, t.expires_at FROM admin_tokens t JOIN admins a ON a.id = t.admin_id WHERE t.token_hash = ?',
      [hash],
    );
    if (!row) return null;
    const principal: Principal = { admin: row.name, kind: row.kind, csrf: row.csrf };
    const expiresAt = row.expires_at ? new Date(row.expires_at) : null;
    if (this.recentTokens.size >= TOKENS_KEPT) this.recentTokens.clear();
    this.recentTokens.set(hash, { principal, expiresAt, seenAt: Date.now() });
    return expiresAt && expiresAt <= now ? null : principal;
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
