import { Router } from 'express';
import type { Core } from '../../core/core.js';
import { optInt, optString } from '../validate.js';
import { pageAsk } from '../paging.js';

export function auditRoutes(core: Core): Router {
  const r = Router();
  r.get('/audit', async (req, res) => {
    const q = req.query as Record<string, unknown>;
    res.json(
      await core.audit.page({
        action: optString(q, 'action', 100),
        actor: optString(q, 'actor', 100),
        text: optString(q, 'q', 200),
        beforeId: optInt(q, 'before', 1),
        ...pageAsk(q),
      }),
    );
  });
  r.get('/audit/verify', async (_req, res) => res.json(await core.audit.verify()));
  return r;
}
