import { spawn } from 'node:child_process';
import type { Logger } from './kernel/log.js';

/**
 * sd_notify for Node: READY=1 when every listener is up, WATCHDOG=1 at half
 * of WATCHDOG_USEC, RELOADING=1/READY=1 around a SIGHUP reload, STOPPING=1
 * first on shutdown. Without NOTIFY_SOCKET (not under systemd, tests) every
 * call is a no-op.
 *
 * Why `systemd-notify` and not a datagram written by this process: Node has
 * no AF_UNIX/SOCK_DGRAM sockets, and a native addon is a build dependency the
 * appliance does not otherwise need. `systemd-notify` ships with systemd; it
 * sends from its own PID, so the unit says `NotifyAccess=all` (every process of
 * the service's cgroup may notify — they are all ours). Since systemd 246 it
 * waits on a BARRIER=1 until the manager has read the message, which closes
 * the old race where the helper exited before systemd could attribute it.
 * Messages go out one at a time, in order.
 */
export class SystemdNotifier {
  private queue: Promise<void> = Promise.resolve();
  private watchdog: NodeJS.Timeout | null = null;
  private pinging = false;
  private missingWarned = false;

  constructor(
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly command = 'systemd-notify',
  ) {}

  get enabled(): boolean {
    return !!this.env.NOTIFY_SOCKET;
  }

  /** Half the watchdog period systemd asked for (WATCHDOG_USEC), or null when there is none for this process. */
  get watchdogIntervalMs(): number | null {
    if (!this.enabled) return null;
    const usec = Number(this.env.WATCHDOG_USEC);
    if (!Number.isFinite(usec) || usec <= 0) return null;
    const pid = this.env.WATCHDOG_PID;
    if (pid && Number(pid) !== process.pid) return null;
    return Math.max(1, Math.floor(usec / 2000));
  }

  /** Send `KEY=value` assignments; resolves when systemd has read them (or the helper failed, which is logged). */
  notify(fields: Record<string, string>): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    const args = Object.entries(fields).map(([k, v]) => `${k}=${v.replace(/\n/g, ' ')}`);
    const send = () =>
      new Promise<void>((resolve) => {
        const child = spawn(this.command, args, { env: this.env, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('error', (e: NodeJS.ErrnoException) => {
          if (e.code === 'ENOENT' && !this.missingWarned) {
            this.missingWarned = true;
            this.log.warn('NOTIFY_SOCKET is set but systemd-notify is missing: systemd will not learn that pbxd is ready', { command: this.command });
          } else if (e.code !== 'ENOENT') this.log.warn('systemd notification failed', { error: e.message });
          resolve();
        });
        child.on('exit', (code) => {
          if (code !== 0) this.log.warn('systemd notification failed', { fields: Object.keys(fields), code, stderr: stderr.trim() });
          resolve();
        });
      });
    const done = this.queue.then(send);
    this.queue = done;
    return done;
  }

  ready(status: string): Promise<void> {
    return this.notify({ READY: '1', STATUS: status });
  }

  reloading(): Promise<void> {
    return this.notify({ RELOADING: '1', STATUS: 'reloading configuration' });
  }

  /** Bounded: shutdown must not wait long for the notification. */
  async stopping(): Promise<void> {
    this.stopWatchdog();
    await Promise.race([this.notify({ STOPPING: '1', STATUS: 'stopping' }), new Promise((r) => setTimeout(r, 1000).unref())]);
  }

  /**
   * Ping WATCHDOG=1 at half the period while `healthy()` says so. A hung event
   * loop or a database that stops answering means no ping, and systemd
   * restarts the service (WatchdogSec= in the unit).
   */
  startWatchdog(healthy: () => Promise<string | null>): void {
    const every = this.watchdogIntervalMs;
    if (every === null || this.watchdog) return;
    this.watchdog = setInterval(() => {
      if (this.pinging) return;
      this.pinging = true;
      healthy()
        .then(async (problem) => {
          if (problem) this.log.warn('watchdog ping withheld: not healthy', { problem });
          else await this.notify({ WATCHDOG: '1' });
        })
        .catch((e) => this.log.warn('watchdog health check failed', { error: String(e) }))
        .finally(() => (this.pinging = false));
    }, every);
    this.watchdog.unref();
    this.log.info('systemd watchdog enabled', { intervalMs: every });
  }

  stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }
}
