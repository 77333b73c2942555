import { Router } from 'express';
import type { Core } from '../../daemon/core/core.js';
import type { ProvisioningSecurity } from './state.js';
import type { ProvisioningAlerts } from './alerts.js';
import type { VendorUrl } from './urls.js';
import type { VendorCas } from './vendor-ca.js';
import { actor } from '../../daemon/http/auth.js';
import { describe } from '../../daemon/http/openapi.js';
import { body, optInt, optString, reqString } from '../../daemon/http/validate.js';

describe([
  ['get', '/provisioning/urls', 'Per vendor, the provisioning URL or DHCP value to set (with the site key) and the protections that apply', { tag: 'devices' }],
  ['post', '/provisioning/key/rotate', 'Make a new site key; the old one keeps working for overlapHours (default provisioning.keyOverlapHours)', { body: 'json', tag: 'devices' }],
  ['post', '/provisioning/enrolment/open', 'Open an enrolment window {mac?, minutes?}: locked devices may move to a new address', { body: 'json', tag: 'devices' }],
  ['post', '/provisioning/enrolment/close', 'Close the enrolment window {mac?} (without mac: for all devices)', { body: 'json', tag: 'devices' }],
  ['get', '/provisioning/alerts', 'Refused attempts at devices\' credentials, newest first (limit)', { tag: 'devices' }],
  ['get', '/provisioning/locks', 'Devices with a refused new address (the badges), paged by mac (limit, after)', { tag: 'devices' }],
  ['get', '/devices/{mac}/lock', 'Where the device may fetch its credentials from', { tag: 'devices' }],
  ['post', '/devices/{mac}/address/allow', 'Allow the refused new address: the device is locked there', { tag: 'devices' }],
  ['post', '/devices/{mac}/address/block', 'Keep refusing the new address; the badge goes', { tag: 'devices' }],
  ['get', '/provisioning/vendor-cas', 'Installed vendor device CAs (factory certificates): module, subject, fingerprint', { tag: 'devices' }],
  ['put', '/provisioning/vendor-cas/{module}', 'Install a vendor\'s device CA {pem}: its HTTPS/WPI credentials then need a client certificate naming the MAC', { body: 'json', tag: 'devices' }],
  ['delete', '/provisioning/vendor-cas/{module}', 'Remove a vendor\'s device CA', { tag: 'devices' }],
  ['put', '/devices/{mac}/address', 'Pin the device to a subnet {subnet} (empty: unpin)', { body: 'json', tag: 'devices' }],
]);

interface SecurityApi {
  security: ProvisioningSecurity;
  alerts: ProvisioningAlerts;
  vendorCas: VendorCas;
  urls(): VendorUrl[];
}

/** Thin adapter over the provisioning security state; the key appears only inside the URLs an admin must set. */
export function provisioningSecurityRoutes(core: Core, s: SecurityApi): Router {
  const r = Router();
  const cfg = () => core.config.provisioning;
  const urls = () => ({ urls: s.urls(), previousKeys: s.security.previousKeys, enrolmentUntil: s.security.windowUntilIso });

  r.get('/provisioning/urls', (_req, res) => res.json(urls()));
  r.post('/provisioning/key/rotate', async (req, res) => {
    const hours = optInt(body(req), 'overlapHours', 0, 24 * 365) ?? cfg().keyOverlapHours;
    await s.security.rotate(hours, actor(req));
    res.json(urls());
  });
  r.post('/provisioning/enrolment/open', async (req, res) => {
    const b = body(req);
    const mac = optString(b, 'mac', 40) ?? null;
    res.json(await s.security.openWindow(mac, optInt(b, 'minutes', 1, 7 * 24 * 60) ?? cfg().enrolmentMinutes, actor(req)));
  });
  r.post('/provisioning/enrolment/close', async (req, res) => {
    await s.security.closeWindow(optString(body(req), 'mac', 40) ?? null, actor(req));
    res.json({ closed: true });
  });
  r.get('/provisioning/alerts', (req, res) => {
    res.json({ alerts: s.alerts.list(optInt(req.query as Record<string, unknown>, 'limit', 1, 1000) ?? 100) });
  });
  r.get('/provisioning/locks', (req, res) => {
    const q = req.query as Record<string, unknown>;
    res.json({ pending: s.security.pending(optInt(q, 'limit', 1, 1000) ?? 100, optString(q, 'after', 40) ?? '') });
  });
  r.get('/devices/:mac/lock', (req, res) => {
    res.json(s.security.lockView(String(req.params.mac)));
  });
  r.post('/devices/:mac/address/allow', async (req, res) => res.json(await s.security.allowPending(String(req.params.mac), actor(req))));
  r.post('/devices/:mac/address/block', async (req, res) => res.json(await s.security.blockPending(String(req.params.mac), actor(req))));
  r.put('/devices/:mac/address', async (req, res) => {
    res.json(await s.security.pin(String(req.params.mac), optString(body(req), 'subnet', 60) ?? null, actor(req)));
  });
  r.get('/provisioning/vendor-cas', (_req, res) => res.json({ vendorCas: s.vendorCas.list() }));
  r.put('/provisioning/vendor-cas/:module', async (req, res) => {
    res.json(await s.vendorCas.install(String(req.params.module), reqString(body(req), 'pem', 20_000), actor(req)));
  });
  r.delete('/provisioning/vendor-cas/:module', async (req, res) => {
    await s.vendorCas.remove(String(req.params.module), actor(req));
    res.status(204).end();
  });
  return r;
}
