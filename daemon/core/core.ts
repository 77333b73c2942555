import type { Config } from '../config.js';
import type { Logger } from '../kernel/log.js';
import type { Clock, OffsetClock } from '../kernel/clock.js';
import type { EventBus } from '../kernel/events.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from './audit.js';
import type { Licensing } from '../licensing/licensing.js';
import type { AdminAccounts } from './admins.js';
import type { Devices } from './devices.js';
import type { BuildInfo } from './system.js';
import type { JobRegistry } from './jobs.js';
import type { Lifecycle } from './lifecycle.js';
import type { Users } from './users.js';
import type { ClientSessions } from './client-sessions.js';
import type { MetricsRegistry } from '../kernel/metrics.js';
import type { HealthChecks } from '../kernel/health.js';
import type { AutoAttendants } from './auto-attendants.js';
import type { SipTrunks } from './sip-trunks.js';

/**
 * The domain core as the adapters see it: services that know nothing of HTTP,
 * sockets or cron. Built once by the Daemon; adapters receive it.
 */
export interface Core {
  config: Config;
  log: Logger;
  /** The trusted clock: never earlier than the latest time pbxd has trusted. Every license decision uses it. */
  clock: Clock;
  /**
   * The clock as set (system, or the development clock). For time-of-day features
   * (auto-attendant hours) that must follow the clock even when it is set back.
   */
  wallClock: Clock;
  /** Present only when development clock control is enabled. */
  devClock: OffsetClock | null;
  bus: EventBus;
  store: Store;
  audit: AuditLog;
  licensing: Licensing;
  admins: AdminAccounts;
  users: Users;
  clientSessions: ClientSessions;
  devices: Devices;
  systemId: string;
  build: BuildInfo;
  /** Prometheus registry: features register their series here (see core/metrics.ts for the names). */
  metrics: MetricsRegistry;
  /** Readiness checks behind /readyz and the systemd watchdog; features add theirs. */
  health: HealthChecks;
  /** Scheduled jobs (expiry watch, online check, backups, …); the scheduler adapter runs them. */
  jobs: JobRegistry;
  /** Renewal, expiry warnings, backups, usage reports. */
  lifecycle: Lifecycle;
  autoAttendants: AutoAttendants;
  sipTrunks: SipTrunks;
}
