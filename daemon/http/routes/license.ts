import express, { Router, type Request } from 'express';
import type { Core } from '../../core/core.js';
import { refuse } from '../../kernel/refusal.js';
import { applianceStatus } from '../../core/status.js';
import type { PlanStep } from '../../licensing/licensing.js';
import { MAX_LICENSE_BYTES } from '../../licensing/format.js';
import { actor } from '../auth.js';
import { body, optInt, reqInt, reqString } from '../validate.js';

/**
 * A license file arrives either as the raw file (text/plain,
 * application/octet-stream: what `curl --data-binary @file` and the upload
 * dialog send) or as JSON `{ "license": "<file text>" }` (pasted text).
 */
const licenseBody = [
  express.raw({ type: ['text/*', 'application/octet-stream', 'application/x-pem-file'], limit: MAX_LICENSE_BYTES }),
  express.json({ limit: MAX_LICENSE_BYTES * 2 }),
];

function licenseText(req: Request): Buffer | string {
  if (Buffer.isBuffer(req.body)) return req.body;
  const b = body(req);
  if (b.license === undefined && Object.keys(b).length === 0) return Buffer.alloc(0);
  return reqString(b, 'license', MAX_LICENSE_BYTES * 2);
}

function planOf(raw: unknown): PlanStep[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.length > 100_000) throw refuse('REQ_INVALID', { field: 'plan', problem: 'must be a list of {kind, id, code}' });
  return raw.map((s, i) => {
    const o = (s ?? {}) as Record<string, unknown>;
    if (typeof o.kind !== 'string' || typeof o.id !== 'string' || typeof o.code !== 'string') throw refuse('REQ_INVALID', { field: `plan[${i}]`, problem: 'needs kind, id and code' });
    return { kind: o.kind, id: o.id, code: o.code };
  });
}

export function licenseRoutes(core: Core): Router {
  const r = Router();

  r.get('/status', async (_req, res) => res.json(await applianceStatus(core)));

  r.get('/license', async (_req, res) => res.json({ ...(await applianceStatus(core)), staged: await core.licensing.staged() }));

  /** Stage: verify and show the change code by code; nothing changes yet. */
  r.post('/license/stage', ...licenseBody, async (req, res) => {
    res.status(201).json(await core.licensing.stage(licenseText(req), actor(req)));
  });

  r.get('/license/staged', async (req, res) => {
    const id = optInt(req.query as Record<string, unknown>, 'stageId', 1);
    const staged = await core.licensing.staged(id);
    if (!staged) throw refuse('REQ_NOT_FOUND', { what: 'A staged license' });
    res.json(staged);
  });

  /** Activate; an optional plan [{kind, id, code}] releases assignments in the same transaction. */
  r.post('/license/activate', async (req, res) => {
    const b = body(req);
    const stageId = reqInt(b, 'stageId', 1);
    res.json(await core.licensing.activate(stageId, actor(req), planOf(b.plan)));
  });

  /** Install: stage and activate in one request. */
  r.post('/license', ...licenseBody, async (req, res) => {
    res.json(await core.licensing.install(licenseText(req), actor(req)));
  });

  return r;
}
