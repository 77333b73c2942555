import type { Config } from '../config.js';
import type { Logger } from './log.js';
import type { Clock, OffsetClock } from './clock.js';
import type { EventBus } from './events.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from './audit.js';
import type { Licensing } from './licensing.js';
import type { AdminAccounts } from './admins.js';
import type { Devices } from './devices.js';
import type { BuildInfo } from './system.js';
import type { UserDirectory } from './users.js';
import type { MetricsRegistry } from './metrics.js';
import type { HealthChecks } from './health.js';

/**
 * The domain core as the adapters see it: services that know nothing of HTTP,
 * sockets or cron. Built once by the Daemon; adapters receive it.
 */
export interface Core {
  config: Config;
  log: Logger;
  clock: Clock;
  /** Present only when development clock control is enabled. */
  devClock: OffsetClock | null;
  bus: EventBus;
  store: Store;
  audit: AuditLog;
  licensing: Licensing;
  admins: AdminAccounts;
  users: UserDirectory;
  devices: Devices;
  systemId: string;
  build: BuildInfo;
  /** Prometheus registry: features register their series here (see core/metrics.ts for the names). */
  metrics: MetricsRegistry;
  /** Readiness checks behind /readyz and the systemd watchdog; features add theirs. */
  health: HealthChecks;
}
