import { Router } from 'express';
import type { Core } from '../../core/core.js';
import { refuse } from '../../kernel/refusal.js';
import { bearer, readCookie, requireAdmin, SESSION_COOKIE } from '../auth.js';
import { body, optBool, reqString } from '../validate.js';
import { sessionKey } from '../live.js';

/** Login (cookie session for the web UI, or a bearer token for scripts), logout, who am I. */
export function authRoutes(core: Core): Router {
  const r = Router();

  r.post('/auth/login', async (req, res) => {
    const b = body(req);
    const name = reqString(b, 'name', 64);
    const password = reqString(b, 'password', 1024);
    const wantToken = optBool(b, 'token') ?? false;
    const from = req.socket.remoteAddress ?? 'unknown';
    try {
      const t = await core.admins.login(name, password, from, wantToken ? 'api' : 'session', wantToken ? 'login' : '');
      core.bus.emit('admin.login', { name, ok: true, from });
      if (wantToken) return res.json({ admin: name, token: t.token });
      res.cookie(SESSION_COOKIE, t.token, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/', expires: new Date(t.expiresAt!) });
      res.json({ admin: name, csrf: t.csrf, expiresAt: t.expiresAt });
    } catch (e) {
      core.bus.emit('admin.login', { name, ok: false, from });
      if ((e as { code?: string }).code === 'AUTH_RATE_LIMITED') res.setHeader('Retry-After', String((e as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds));
      throw e;
    }
  });

  r.post('/auth/logout', requireAdmin(core), async (req, res) => {
    const token = bearer(req) || readCookie(req.headers.cookie, SESSION_COOKIE);
    if (token) {
      await core.admins.logout(token);
      // The live channel closes this session's sockets (it knows sessions only by this key).
      core.bus.emit('admin.logout', { name: req.principal!.admin, session: sessionKey(token) });
    }
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.json({ ok: true });
  });

  r.get('/auth/me', requireAdmin(core), (req, res) => {
    const p = req.principal!;
    res.json({ admin: p.admin, kind: p.kind, csrf: p.csrf ?? null });
  });

  r.get('/admins', requireAdmin(core), async (_req, res) => res.json({ admins: await core.admins.list() }));

  r.put('/admins/:name/password', requireAdmin(core), async (req, res) => {
    const password = reqString(body(req), 'password', 1024);
    await core.admins.setPassword(String(req.params.name), password, req.principal!.admin);
    res.json({ ok: true });
  });

  r.post('/tokens', requireAdmin(core), async (req, res) => {
    const b = body(req);
    const label = reqString(b, 'label', 100);
    const p = req.principal!;
    const admin = p.kind === 'local' ? reqString(b, 'admin', 64) : p.admin;
    if (p.kind !== 'local' && b.admin !== undefined && b.admin !== p.admin) throw refuse('REQ_INVALID', { field: 'admin', problem: 'you can create tokens only for yourself' });
    res.status(201).json({ admin, label, token: await core.admins.createApiToken(admin, label) });
  });

  return r;
}
