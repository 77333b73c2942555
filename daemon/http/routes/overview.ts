import { Router } from 'express';
import type { Core } from '../../core/core.js';
import { describe } from '../openapi.js';

describe([
  ['get', '/overview', "What the web UI's overview shows besides the status: clock alert, phones waiting, recent provisioning rejections, daily peaks of the last 30 days", { tag: 'status' }],
]);

/** How far back provisioning rejections count as an open alert. */
const PROVISIONING_ALERT_MS = 24 * 3600_000;

/** Read-only: one request for the overview page's alerts and chart (the counts come live with `status`). */
export function overviewRoutes(core: Core): Router {
  const r = Router();
  r.get('/overview', async (_req, res) => {
    const since = Date.now() - PROVISIONING_ALERT_MS;
    const rejected = core.devices.events({ outcome: 'rejected', limit: 500 }).events.filter((e) => Date.parse(e.at) >= since);
    res.json({
      clock: core.lifecycle.clockBehind(),
      waitingDevices: core.devices.countByState().waiting,
      provisioningRejected: { count: rejected.length, last: rejected[0] ?? null },
      peaks: await core.lifecycle.usage.dailyPeaks(30),
    });
  });
  return r;
}
