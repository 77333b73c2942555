import { Router, type Request } from 'express';
import type { Core } from '../../core/core.js';
import type { Feature } from '../../feature.js';
import { PROMETHEUS_CONTENT_TYPE } from '../../kernel/metrics.js';
import { refuse } from '../../kernel/refusal.js';
import { bearer, VIA_CONTROL_SOCKET } from '../auth.js';
import type { Listener } from '../listener.js';

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * Operations endpoints at the root, outside the versioned admin API (where
 * probes and Prometheus look for them):
 * - GET /healthz — liveness, no auth: 200 while the process answers.
 * - GET /readyz — readiness, no auth: 200 when every check (database,
 *   listeners, …) passes, else 503 naming the failing ones.
 * - GET /metrics — Prometheus text format 0.0.4, for the control socket,
 *   loopback clients (unless `metrics.allowLoopback` is false) or an admin
 *   bearer token.
 */
export class HealthFeature implements Feature {
  readonly name = 'health';

  /** Registers the database and listener checks and the per-listener series; features add their own checks to `core.health`. */
  constructor(
    private readonly core: Core,
    listeners: () => Listener[],
  ) {
    // The open database must be the file at its path, writable, and its schema must answer:
    // a deleted or replaced file would otherwise take every later write with it at stop.
    core.health.add('database-file', () => core.store.fileProblem());
    core.health.add('database-writable', () => core.store.writableProblem());
    core.health.add('database-schema', () => core.store.schemaProblem());
    core.health.add('listeners', () => {
      const down = listeners().filter((l) => !l.server.listening).map((l) => l.name);
      return down.length ? `not listening: ${down.join(', ')}` : null;
    });
    core.metrics.gauge('pbxd_http_requests_in_flight', 'Requests being answered, per listener', ['listener'], () =>
      listeners().map((l) => ({ labels: { listener: l.name }, value: l.active })),
    );
    core.metrics.gauge('pbxd_http_connections', 'Open connections (sockets), per listener', ['listener'], () =>
      Promise.all(
        listeners().map(
          (l) => new Promise<{ labels: { listener: string }; value: number }>((resolve) => l.server.getConnections((err, n) => resolve({ labels: { listener: l.name }, value: err ? 0 : n }))),
        ),
      ),
    );
  }

  /** Metrics tell how the appliance is used: the control socket, loopback (unless disabled) or an admin token. */
  private async mayReadMetrics(req: Request): Promise<boolean> {
    if (req[VIA_CONTROL_SOCKET]) return true;
    const token = bearer(req);
    if (token) return (await this.core.admins.authenticate(token)) !== null;
    return this.core.config.metrics.allowLoopback && isLoopback(req.socket.remoteAddress);
  }

  publicRoutes(): Router {
    const r = Router();
    r.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
    r.get('/readyz', async (_req, res) => {
      const report = await this.core.health.run();
      res.status(report.ok ? 200 : 503).json({ status: report.ok ? 'ready' : 'not ready', checks: report.checks });
    });
    r.get('/metrics', async (req, res) => {
      if (!(await this.mayReadMetrics(req))) throw refuse('AUTH_REQUIRED');
      res.type(PROMETHEUS_CONTENT_TYPE).send(await this.core.metrics.render());
    });
    return r;
  }
}
