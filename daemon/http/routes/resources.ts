import { Router } from 'express';
import type { Core } from '../../core/core.js';
import { evaluate, parseAttendant, parseSchedule } from '../../core/auto-attendants.js';
import { parseTrunk } from '../../core/sip-trunks.js';
import { refuse } from '../../kernel/refusal.js';
import { actor } from '../auth.js';
import { describe } from '../openapi.js';
import { body, optString } from '../validate.js';

describe([
  ['get', '/auto-attendants', 'Auto attendants with their current state and next switch, and licenses used/total', { tag: 'resources' }],
  ['post', '/auto-attendants', 'Create an auto attendant {name, numbers, schedule, inHours, outOfHours}; takes one autoattendants license', { body: 'json', tag: 'resources' }],
  ['get', '/auto-attendants/{name}', 'One auto attendant: state (open|closed), since, nextChange', { tag: 'resources' }],
  ['patch', '/auto-attendants/{name}', 'Change any of name, numbers, schedule, inHours, outOfHours', { body: 'json', tag: 'resources' }],
  ['delete', '/auto-attendants/{name}', 'Delete an auto attendant (frees its license)', { tag: 'resources' }],
  ['post', '/auto-attendants/evaluate', 'Try a schedule {schedule, at?}: open or closed at that time, since, next change; nothing is stored', { body: 'json', tag: 'resources' }],
  ['get', '/sip-trunks', 'SIP trunks (passwords are never shown) and trunk channels used/total', { tag: 'resources' }],
  ['post', '/sip-trunks', 'Create a SIP trunk {name, registrar, username, password, channels}', { body: 'json', tag: 'resources' }],
  ['get', '/sip-trunks/{name}', 'One SIP trunk', { tag: 'resources' }],
  ['patch', '/sip-trunks/{name}', 'Change any of name, registrar, username, password, channels', { body: 'json', tag: 'resources' }],
  ['delete', '/sip-trunks/{name}', 'Delete a SIP trunk (frees its channels)', { tag: 'resources' }],
]);

export function resourceRoutes(core: Core): Router {
  const r = Router();
  const aa = core.autoAttendants;
  const trunks = core.sipTrunks;
  const name = (p: unknown) => String(p);

  r.get('/auto-attendants', async (_req, res) => res.json(await aa.list()));
  r.post('/auto-attendants/evaluate', async (req, res) => {
    const b = body(req);
    const at = optString(b, 'at', 40);
    const when = at === undefined ? core.clock.now() : new Date(at);
    if (Number.isNaN(when.getTime())) throw refuse('REQ_INVALID', { field: 'at', problem: 'not a date' });
    const ev = evaluate(parseSchedule(b.schedule), when);
    res.json({ at: when.toISOString(), state: ev.state, since: ev.since?.toISOString() ?? null, nextChange: ev.nextChange?.toISOString() ?? null });
  });
  r.post('/auto-attendants', async (req, res) => res.status(201).json(await aa.create(parseAttendant(body(req)), actor(req))));
  r.get('/auto-attendants/:name', async (req, res) => res.json(await aa.get(name(req.params.name))));
  r.patch('/auto-attendants/:name', async (req, res) => res.json(await aa.update(name(req.params.name), body(req), actor(req))));
  r.delete('/auto-attendants/:name', async (req, res) => {
    await aa.remove(name(req.params.name), actor(req));
    res.status(204).end();
  });

  r.get('/sip-trunks', async (_req, res) => res.json(await trunks.list()));
  r.post('/sip-trunks', async (req, res) => res.status(201).json(await trunks.create(parseTrunk(body(req)), actor(req))));
  r.get('/sip-trunks/:name', async (req, res) => res.json(await trunks.get(name(req.params.name))));
  r.patch('/sip-trunks/:name', async (req, res) => res.json(await trunks.update(name(req.params.name), body(req), actor(req))));
  r.delete('/sip-trunks/:name', async (req, res) => {
    await trunks.remove(name(req.params.name), actor(req));
    res.status(204).end();
  });
  return r;
}
