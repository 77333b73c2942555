import type http from 'node:http';
import type { Router } from 'express';
import type { Config } from './config.js';

/**
 * An adapter around the core (provisioning server, socket.io, scheduler, …)
 * as a start/stop unit. The constructor only wires; `start()` opens listeners
 * and timers, `stop()` closes exactly what `start()` opened.
 */
export interface Feature {
  readonly name: string;
  /** Admin API routes; `http/app.ts` mounts them under /api/v1 behind the admin check and the shared error handling. */
  routes?(): Router[];
  /** Routes at the root, outside /api/v1 and without its auth (/healthz, /metrics, provisioning paths). */
  publicRoutes?(): Router;
  /**
   * Called once the admin API listens (socket.io and ws attach to `api`).
   * Returns the listeners it bound (name → address) for the ready line.
   */
  start?(ctx: { api: http.Server }): Promise<Record<string, string> | void>;
  stop?(): Promise<void>;
  /**
   * SIGHUP: the new configuration, already validated; apply what this feature
   * can change without a restart (schedules, limits). `applied` lists the
   * changed keys that need no restart.
   */
  reload?(config: Config, applied: string[]): Promise<void> | void;
}
