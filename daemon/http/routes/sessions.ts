import { Router } from 'express';
import type { Core } from '../../core/core.js';
import { CLIENT_KINDS } from '../../core/client-session-refusals.js';
import { refuse } from '../../kernel/refusal.js';
import { actor } from '../auth.js';
import { describe } from '../openapi.js';
import { body, optString, reqInt, reqString } from '../validate.js';
import { PAGED, pageAsk } from '../paging.js';

describe([
  ['get', '/sessions', `Live client sessions (desktop, app, tapi, console), one page: who, kind, since, from; filters: user, kind; sort since|userName|kind; ${PAGED}`, { tag: 'sessions' }],
  ['delete', '/sessions/{id}', 'End a client session (the client is told why and closed with 4011)', { tag: 'sessions' }],
  ['post', '/users/{userName}/client-tokens', 'Issue a client token for a user {label?}; the token is shown once', { body: 'json', tag: 'sessions' }],
  ['get', '/users/{userName}/client-tokens', "A user's client tokens (without the secrets)", { tag: 'sessions' }],
  ['delete', '/client-tokens/{id}', 'Revoke a client token; sessions opened with it end', { tag: 'sessions' }],
  ['put', '/users/{userName}/password', "Set a user's client password {password}", { body: 'json', tag: 'sessions' }],
]);

/** Admin API of client sessions and the credentials clients log in with. */
export function sessionRoutes(core: Core): Router {
  const r = Router();
  const sessions = core.clientSessions;

  r.get('/sessions', (req, res) => {
    const q = req.query as Record<string, unknown>;
    const kind = optString(q, 'kind', 20);
    if (kind && !(CLIENT_KINDS as string[]).includes(kind)) throw refuse('REQ_INVALID', { field: 'kind', problem: `one of ${CLIENT_KINDS.join(', ')}` });
    const page = sessions.list({ userName: optString(q, 'user'), kind, ...pageAsk(q) });
    res.json({ ...page, counts: sessions.counts() });
  });

  r.delete('/sessions/:id', async (req, res) => {
    await sessions.endByAdmin(String(req.params.id), actor(req));
    res.json({ ended: req.params.id });
  });

  r.post('/users/:userName/client-tokens', async (req, res) => {
    const label = optString(body(req), 'label', 100) ?? '';
    res.status(201).json(await sessions.issueToken(String(req.params.userName), label, actor(req)));
  });

  r.get('/users/:userName/client-tokens', async (req, res) => {
    res.json({ tokens: await sessions.tokens(String(req.params.userName)) });
  });

  r.delete('/client-tokens/:id', async (req, res) => {
    const id = reqInt({ id: req.params.id }, 'id', 1);
    await sessions.revokeToken(id, actor(req));
    res.json({ revoked: id });
  });

  r.put('/users/:userName/password', async (req, res) => {
    await sessions.setPassword(String(req.params.userName), reqString(body(req), 'password', 1024), actor(req));
    res.json({ ok: true, userName: req.params.userName });
  });

  return r;
}
