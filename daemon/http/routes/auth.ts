import { Router, type Request, type Response } from 'express';
import type { Core } from '../../core/core.js';
import { refuse, type Refusal } from '../../kernel/refusal.js';
import { bearer, readCookie, SESSION_COOKIE } from '../auth.js';
import { body, optBool, optInt, optString, reqString } from '../validate.js';
import { sessionKey } from '../live.js';
import { describe } from '../openapi.js';
import { MAX_TOKEN_DAYS } from '../../core/admins.js';

describe([
  ['post', '/admins', 'Add an admin {name, password, currentPassword}', { body: 'json', tag: 'auth' }],
  ['patch', '/admins/{name}', 'Disable or enable an admin {disabled, currentPassword}; never the last active one', { body: 'json', tag: 'auth' }],
  ['delete', '/admins/{name}', 'Delete an admin {currentPassword}; never the last active one', { body: 'json', tag: 'auth' }],
  ['get', '/tokens', 'Your API tokens (label, expiry, last use), newest first; limit, before', { tag: 'auth' }],
  ['delete', '/tokens/{id}', 'Revoke one of your API tokens', { tag: 'auth' }],
]);

/** The client's address: the socket's, or the one a trusted reverse proxy forwarded (http.trustProxy). */
const sourceOf = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';

/** Failed logins are answered here, not by the error handler, so a flood of them writes no log line each. */
function answerRefusal(res: Response, e: Refusal): void {
  if (e.code === 'AUTH_RATE_LIMITED') res.setHeader('Retry-After', String((e.details as { retryAfterSeconds: number }).retryAfterSeconds));
  res.status(e.status).json({ error: e.toJSON() });
}

/** Login (cookie session for the web UI, or a bearer token for scripts), logout, who am I; admins and API tokens. */
export function authRoutes(core: Core): Router {
  const r = Router();

  r.post('/auth/login', async (req, res) => {
    const b = body(req);
    const name = reqString(b, 'name', 64);
    const password = reqString(b, 'password', 1024);
    const wantToken = optBool(b, 'token') ?? false;
    const days = optInt(b, 'expiresInDays', 1, MAX_TOKEN_DAYS) ?? null;
    const from = sourceOf(req);
    let t: Awaited<ReturnType<typeof core.admins.login>>;
    try {
      t = wantToken ? await core.admins.login(name, password, from, 'api', optString(b, 'label', 100) ?? 'login', days) : await core.admins.login(name, password, from, 'session');
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== 'AUTH_INVALID' && code !== 'AUTH_RATE_LIMITED') throw e;
      core.bus.emit('admin.login', { name, ok: false, from, limited: code === 'AUTH_RATE_LIMITED' });
      return answerRefusal(res, e as Refusal);
    }
    core.bus.emit('admin.login', { name, ok: true, from });
    if (wantToken) return res.json({ admin: name, token: t.token, expiresAt: t.expiresAt });
    res.cookie(SESSION_COOKIE, t.token, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/', expires: new Date(t.expiresAt!) });
    res.json({ admin: name, csrf: t.csrf, expiresAt: t.expiresAt });
  });

  r.post('/auth/logout', async (req, res) => {
    const token = bearer(req) || readCookie(req.headers.cookie, SESSION_COOKIE);
    if (token) {
      await core.admins.logout(token);
      // The live channel closes this session's sockets (it knows sessions only by this key).
      core.bus.emit('admin.logout', { name: req.principal!.admin, session: sessionKey(token) });
    }
    res.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: req.secure });
    res.json({ ok: true });
  });

  r.get('/auth/me', (req, res) => {
    const p = req.principal!;
    res.json({ admin: p.admin, kind: p.kind, csrf: p.csrf ?? null });
  });

  // ── admins: every change needs the acting admin's current password (not the local CLI's) ──
  const reauth = (req: Request) => core.admins.reauthenticate(req.principal!, optString(body(req), 'currentPassword', 1024), sourceOf(req));

  r.get('/admins', async (req, res) => {
    const q = req.query as Record<string, unknown>;
    res.json(await core.admins.list({ limit: optInt(q, 'limit', 1, 500), offset: optInt(q, 'offset', 0) }));
  });

  r.post('/admins', async (req, res) => {
    const b = body(req);
    const name = reqString(b, 'name', 64);
    const password = reqString(b, 'password', 1024);
    await reauth(req);
    await core.admins.create(name, password, req.principal!.admin);
    res.status(201).json({ admin: name });
  });

  r.put('/admins/:name/password', async (req, res) => {
    const password = reqString(body(req), 'password', 1024);
    await reauth(req);
    const outcome = await core.admins.setPassword(String(req.params.name), password, req.principal!.admin);
    res.status(outcome === 'created' ? 201 : 200).json({ ok: true, outcome });
  });

  r.patch('/admins/:name', async (req, res) => {
    const disabled = optBool(body(req), 'disabled');
    if (disabled === undefined) throw refuse('REQ_INVALID', { field: 'disabled', problem: 'is required (true or false)' });
    await reauth(req);
    await core.admins.setDisabled(String(req.params.name), disabled, req.principal!.admin);
    res.json({ admin: String(req.params.name), disabled });
  });

  r.delete('/admins/:name', async (req, res) => {
    await reauth(req);
    await core.admins.remove(String(req.params.name), req.principal!.admin);
    res.json({ ok: true });
  });

  // ── API tokens: each admin sees and revokes its own; the local CLI any ──
  r.get('/tokens', async (req, res) => {
    const p = req.principal!;
    const q = req.query as Record<string, unknown>;
    const owner = p.kind === 'local' ? (optString(q, 'admin', 64) ?? null) : p.admin;
    const tokens = await core.admins.listTokens(owner, { limit: optInt(q, 'limit', 1, 500), beforeId: optInt(q, 'before', 1) });
    res.json({ tokens, next: tokens.length ? tokens[tokens.length - 1]!.id : null });
  });

  r.post('/tokens', async (req, res) => {
    const b = body(req);
    const label = reqString(b, 'label', 100);
    const days = optInt(b, 'expiresInDays', 1, MAX_TOKEN_DAYS) ?? null;
    const p = req.principal!;
    const owner = p.kind === 'local' ? reqString(b, 'admin', 64) : p.admin;
    if (p.kind !== 'local' && b.admin !== undefined && b.admin !== p.admin) throw refuse('REQ_INVALID', { field: 'admin', problem: 'you can create tokens only for yourself' });
    const t = await core.admins.createApiToken(owner, label, days, p.admin);
    res.status(201).json({ admin: owner, label, id: t.id, token: t.token, expiresAt: t.expiresAt });
  });

  r.delete('/tokens/:id', async (req, res) => {
    const id = optInt({ id: req.params.id }, 'id', 1);
    if (id === undefined) throw refuse('REQ_INVALID', { field: 'id', problem: 'is required' });
    const p = req.principal!;
    await core.admins.revokeToken(id, p.kind === 'local' ? null : p.admin, p.admin);
    res.json({ ok: true });
  });

  return r;
}
