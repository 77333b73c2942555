import { Router } from 'express';
import type { Core } from '../../core/core.js';
import { actor } from '../auth.js';
import { describe } from '../openapi.js';
import { body, optInt, optString, reqString } from '../validate.js';
import { PAGED, pageAsk } from '../paging.js';

describe([
  ['get', '/devices', `Devices with vendor, model, last seen, user and license state, one page; filters q (prefix of MAC, user, display name, last address), state, vendor, user; sort mac|lastSeen|userName|createdAt|state|vendor; ${PAGED}`, { tag: 'devices' }],
  ['post', '/devices', 'Add a device by hand {mac, vendor, model?}', { body: 'json', tag: 'devices' }],
  ['post', '/devices/{mac}/assign', 'Assign a device to a user {userName, line?}; it gets its own SIP line', { body: 'json', tag: 'devices' }],
  ['post', '/devices/{mac}/release', 'Release a device: no user, no support license', { tag: 'devices' }],
  ['post', '/devices/{mac}/block', 'Block a device (never served; frees its license)', { tag: 'devices' }],
  ['post', '/devices/{mac}/unblock', 'Unblock a device', { tag: 'devices' }],
  ['delete', '/devices/{mac}', 'Delete a device entry', { tag: 'devices' }],
  ['get', '/provisioning/events', `Recent provisioning outcomes, newest first; filters outcome, mac; sort at; ${PAGED}`, { tag: 'devices' }],
]);

/** Thin adapter over core.devices; SIP passwords never leave through here. */
export function devicesRoutes(core: Core): Router {
  const r = Router();
  const d = core.devices;

  r.get('/devices', async (req, res) => {
    const q = req.query as Record<string, unknown>;
    res.json(await d.list({ q: optString(q, 'q', 100), state: optString(q, 'state', 20), vendor: optString(q, 'vendor', 20), user: optString(q, 'user', 100), ...pageAsk(q) }));
  });
  r.post('/devices', async (req, res) => {
    const b = body(req);
    res.status(201).json(await d.add(reqString(b, 'mac', 40), reqString(b, 'vendor', 20), optString(b, 'model', 64) ?? '', actor(req)));
  });
  r.post('/devices/:mac/assign', async (req, res) => {
    const b = body(req);
    res.json(await d.assign(String(req.params.mac), reqString(b, 'userName', 100), optInt(b, 'line', 1, 16), actor(req)));
  });
  r.post('/devices/:mac/release', async (req, res) => res.json(await d.release(String(req.params.mac), actor(req))));
  r.post('/devices/:mac/block', async (req, res) => res.json(await d.setBlocked(String(req.params.mac), true, actor(req))));
  r.post('/devices/:mac/unblock', async (req, res) => res.json(await d.setBlocked(String(req.params.mac), false, actor(req))));
  r.delete('/devices/:mac', async (req, res) => {
    await d.remove(String(req.params.mac), actor(req));
    res.status(204).end();
  });
  r.get('/provisioning/events', (req, res) => {
    const q = req.query as Record<string, unknown>;
    res.json(d.events({ outcome: optString(q, 'outcome', 40), mac: optString(q, 'mac', 40), ...pageAsk(q) }));
  });
  return r;
}
