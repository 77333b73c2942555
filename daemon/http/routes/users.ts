import express, { Router, type Request } from 'express';
import type { Core } from '../../core/core.js';
import { refuse } from '../../kernel/refusal.js';
import type { LicenseChange, UserInput } from '../../core/users.js';
import { parseCsv } from '../../core/csv.js';
import { actor } from '../auth.js';
import { body, optBool, optInt, optString, reqInt } from '../validate.js';
import { PAGED, pageAsk } from '../paging.js';
import { describe } from '../openapi.js';

describe([
  ['get', '/users', `Users, one page; filters q (prefix of user name, first or last name, extension), status (active|pending), tenant; sort userName|lastName|firstName|createdAt|pendingSince; ${PAGED}`, { tag: 'users' }],
  ['post', '/users', 'Register a user {userName, firstName, lastName, tenant?, extension?}; 409 SEATS_EXHAUSTED when no seat is free', { body: 'json', tag: 'users' }],
  ['patch', '/users/{userName}', 'Change names, extension or tenant', { body: 'json', tag: 'users' }],
  ['delete', '/users/{userName}', 'Delete a user; frees its seat and its licenses', { tag: 'users' }],
  ['post', '/users/import', 'Directory sync: CSV (text/csv, header userName,firstName,lastName,tenant,extension) or JSON {users:[...]}; beyond free seats users become pending', { body: 'json', tag: 'users' }],
  ['post', '/users/approve', 'Approve pending users {userNames:[...]} (all or none) or {all:true} (as many as fit)', { body: 'json', tag: 'users' }],
  ['get', '/tenants', 'Tenants and their seat pools', { tag: 'users' }],
  ['put', '/tenants/{name}', 'Create or resize a seat pool {seats}', { body: 'json', tag: 'users' }],
  ['delete', '/tenants/{name}', 'Delete an empty tenant', { tag: 'users' }],
  ['get', '/user-licenses', `The per-user license table, one page of active users × codes, used/total per code; filter q (prefix as for /users); sort userName|lastName|firstName|createdAt; ${PAGED}`, { tag: 'users' }],
  ['get', '/user-licenses/suspended', 'Users whose per-user licenses are suspended (kept, not in force) and which codes; limit, offset', { tag: 'users' }],
  ['post', '/user-licenses', 'Apply a batch {changes:[{userName, code, assigned}]} all or nothing; 409 USERLIC_QUOTA_EXCEEDED names each code', { body: 'json', tag: 'users' }],
]);

const MAX_IMPORT = 100_000;

function userInput(b: Record<string, unknown>): UserInput {
  const s = (k: string) => (b[k] === undefined || b[k] === null ? (b[k] as undefined | null) : String(b[k]));
  return { userName: String(b.userName ?? ''), firstName: s('firstName') ?? undefined, lastName: s('lastName') ?? undefined, tenant: s('tenant'), extension: s('extension') };
}

/** Field names as LDAP/AD connectors deliver them, mapped to ours. */
const IMPORT_ALIASES: Record<string, keyof UserInput> = {
  username: 'userName', user: 'userName', samaccountname: 'userName', uid: 'userName', login: 'userName',
  firstname: 'firstName', givenname: 'firstName', first: 'firstName',
  lastname: 'lastName', sn: 'lastName', surname: 'lastName', last: 'lastName',
  tenant: 'tenant', company: 'tenant', o: 'tenant',
  extension: 'extension', ipphone: 'extension', telephonenumber: 'extension',
};

function importRecords(req: Request): UserInput[] {
  let raw: Array<Record<string, unknown>>;
  if (typeof req.body === 'string') {
    const rows = parseCsv(req.body);
    if (rows.length === 0) throw refuse('REQ_INVALID', { field: 'body', problem: 'the CSV is empty' });
    const header = rows[0]!.map((h) => h.trim().toLowerCase());
    if (!header.some((h) => IMPORT_ALIASES[h] === 'userName')) throw refuse('REQ_INVALID', { field: 'body', problem: 'the CSV header needs a userName column' });
    raw = rows.slice(1).filter((r) => r.some((c) => c.trim() !== '')).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
  } else {
    const b = req.body;
    raw = Array.isArray(b) ? b : Array.isArray(b?.users) ? b.users : (() => { throw refuse('REQ_INVALID', { field: 'users', problem: 'send a list of users' }); })();
  }
  if (raw.length > MAX_IMPORT) throw refuse('REQ_INVALID', { field: 'users', problem: `at most ${MAX_IMPORT} per import` });
  return raw.map((r, i) => {
    if (!r || typeof r !== 'object') throw refuse('REQ_INVALID', { field: `users[${i}]`, problem: 'not an object' });
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) {
      const key = IMPORT_ALIASES[k.toLowerCase()] ?? k;
      if (v !== '' && v !== undefined) o[key] = typeof v === 'string' ? v.trim() : v;
    }
    return userInput(o);
  });
}

export function userRoutes(core: Core): Router {
  const r = Router();
  const users = core.users;

  r.get('/users', async (req, res) => {
    const q = req.query as Record<string, unknown>;
    const status = optString(q, 'status', 10);
    if (status && status !== 'active' && status !== 'pending') throw refuse('REQ_INVALID', { field: 'status', problem: 'active or pending' });
    const page = await users.list({ q: optString(q, 'q'), status: status as 'active' | 'pending' | undefined, tenant: optString(q, 'tenant'), ...pageAsk(q) });
    res.json(page);
  });

  r.post('/users', async (req, res) => {
    res.status(201).json(await users.register(userInput(body(req)), actor(req)));
  });

  r.get('/users/:userName', async (req, res) => {
    const u = await users.get(String(req.params.userName));
    if (!u) throw refuse('REQ_NOT_FOUND', { what: `User ${req.params.userName}` });
    res.json(u);
  });

  r.patch('/users/:userName', async (req, res) => {
    const { userName: _ignored, ...patch } = userInput({ ...body(req), userName: req.params.userName });
    for (const k of Object.keys(patch) as Array<keyof typeof patch>) if (!(k in body(req))) delete patch[k];
    res.json(await users.update(String(req.params.userName), patch, actor(req)));
  });

  r.delete('/users/:userName', async (req, res) => {
    await users.delete(String(req.params.userName), actor(req));
    res.json({ ok: true });
  });

  r.post('/users/import', express.text({ type: ['text/csv', 'text/plain'], limit: '20mb' }), express.json({ limit: '20mb' }), async (req, res) => {
    res.json(await users.import(importRecords(req), actor(req)));
  });

  r.post('/users/approve', async (req, res) => {
    const b = body(req);
    if (optBool(b, 'all')) {
      res.json(await users.approve({ all: true }, actor(req)));
      return;
    }
    const names = b.userNames;
    if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) throw refuse('REQ_INVALID', { field: 'userNames', problem: 'a list of user names, or all: true' });
    res.json(await users.approve({ userNames: names }, actor(req)));
  });

  r.get('/tenants', async (_req, res) => res.json(await users.tenants()));
  r.put('/tenants/:name', async (req, res) => {
    await users.setPool(String(req.params.name), reqInt(body(req), 'seats', 0, 1_000_000), actor(req));
    res.json(await users.tenants());
  });
  r.delete('/tenants/:name', async (req, res) => {
    await users.deleteTenant(String(req.params.name), actor(req));
    res.json({ ok: true });
  });

  r.get('/user-licenses', async (req, res) => {
    const q = req.query as Record<string, unknown>;
    res.json(await users.licenseTable({ q: optString(q, 'q'), ...pageAsk(q) }));
  });

  r.get('/user-licenses/suspended', async (req, res) => {
    const q = req.query as Record<string, unknown>;
    res.json(await users.suspendedByUser(optInt(q, 'limit', 1, 500) ?? 50, optInt(q, 'offset', 0) ?? 0));
  });

  r.post('/user-licenses', async (req, res) => {
    const raw = body(req).changes;
    if (!Array.isArray(raw) || raw.length > 200_000) throw refuse('REQ_INVALID', { field: 'changes', problem: 'a list of {userName, code, assigned}' });
    const changes: LicenseChange[] = raw.map((c, i) => {
      const o = (c ?? {}) as Record<string, unknown>;
      if (typeof o.userName !== 'string' || typeof o.code !== 'string' || typeof o.assigned !== 'boolean') throw refuse('REQ_INVALID', { field: `changes[${i}]`, problem: 'needs userName, code and assigned (true/false)' });
      return { userName: o.userName, code: o.code, assigned: o.assigned };
    });
    const result = await users.applyLicenseChanges(changes, actor(req));
    res.json({ ...result, codes: await users.licenseCodes() });
  });

  return r;
}
