import { Router } from 'express';
import type { Core } from '../../core/core.js';
import { refuse } from '../../kernel/refusal.js';
import { body, optString } from '../validate.js';

/**
 * Development only (config dev.clockControl): move the daemon's clock, so tests
 * and demos can walk a license through expiry and grace. Not mounted otherwise.
 */
export function devRoutes(core: Core): Router {
  const r = Router();
  r.get('/dev/clock', (_req, res) => res.json({ now: core.clock.now().toISOString(), offsetMs: core.devClock!.offset }));
  r.put('/dev/clock', (req, res) => {
    const b = body(req);
    const at = optString(b, 'now', 40);
    const offset = b.offsetMs;
    if (at !== undefined) {
      const d = new Date(at);
      if (Number.isNaN(d.getTime())) throw refuse('REQ_INVALID', { field: 'now', problem: 'not a date' });
      core.devClock!.set(d);
    } else if (typeof offset === 'number' && Number.isFinite(offset)) core.devClock!.setOffset(offset);
    else throw refuse('REQ_INVALID', { field: 'now', problem: 'give now (ISO time) or offsetMs' });
    core.licensing.checkMode();
    core.bus.emit('clock.changed', { now: core.clock.now().toISOString() });
    res.json({ now: core.clock.now().toISOString(), offsetMs: core.devClock!.offset });
  });
  return r;
}
