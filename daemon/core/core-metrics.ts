import type { Core } from './core.js';
import type { Mode } from '../licensing/licensing.js';

const MODES: Mode[] = ['licensed', 'grace', 'entry'];

/**
 * The series every appliance has: license mode and quantities (computed at
 * scrape time from the licensing service), admin sessions, and counts of the
 * bus events other features emit (provisioning requests, job results).
 * Returns a function that unsubscribes from the bus.
 */
export function registerCoreMetrics(core: Pick<Core, 'metrics' | 'bus' | 'licensing' | 'admins' | 'build'>): () => void {
  const { metrics, licensing } = core;
  const started = Date.now() / 1000;

  metrics.gauge('pbxd_build_info', 'Version and release date of this pbxd build', ['version', 'build_date'], () => [
    { labels: { version: core.build.version, build_date: core.build.buildDate }, value: 1 },
  ]);
  metrics.gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch in seconds', [], () => [{ value: started }]);
  metrics.gauge('process_resident_memory_bytes', 'Resident memory size in bytes', [], () => [{ value: process.memoryUsage.rss() }]);
  metrics.collectedCounter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds', [], () => {
    const u = process.cpuUsage();
    return [{ value: (u.user + u.system) / 1e6 }];
  });

  metrics.gauge('pbxd_license_mode', 'Operating mode: 1 for the mode in force, 0 for the others', ['mode'], () => {
    const m = licensing.mode().mode;
    return MODES.map((mode) => ({ labels: { mode }, value: mode === m ? 1 : 0 }));
  });
  metrics.gauge('pbxd_license_development_root_trusted', 'Whether the public development license root is trusted (1: anyone can issue licenses this appliance accepts)', [], () => [
    { value: licensing.status().developmentRootTrusted ? 1 : 0 },
  ]);
  metrics.gauge('pbxd_license_expiry_timestamp_seconds', 'When the license in force expires (absent without expiry)', [], () => {
    const e = licensing.mode().expiresAt;
    return e ? [{ value: Date.parse(e) / 1000 }] : [];
  });
  const lines = () => licensing.codeLines();
  metrics.gauge('pbxd_license_used', 'Licensed quantities in use, per code', ['code', 'scope'], async () =>
    (await lines()).map((l) => ({ labels: { code: l.code, scope: l.scope }, value: l.used })),
  );
  metrics.gauge('pbxd_license_granted', 'Licensed quantities in force (Entry allowance in Entry mode), per code', ['code', 'scope'], async () =>
    (await lines()).map((l) => ({ labels: { code: l.code, scope: l.scope }, value: l.total })),
  );

  metrics.gauge('pbxd_admin_sessions', 'Unexpired admin browser sessions and API tokens', ['kind'], async () => {
    const live = await core.admins.liveTokens();
    return (['session', 'api'] as const).map((kind) => ({ labels: { kind }, value: live[kind] }));
  });

  const provRequests = metrics.counter('pbxd_provisioning_requests_total', 'Provisioning requests by vendor and outcome', ['vendor', 'outcome']);
  const provLatency = metrics.histogram('pbxd_provisioning_request_duration_seconds', 'Time to answer a provisioning request', ['vendor']);
  const jobRuns = metrics.counter('pbxd_job_runs_total', 'Scheduled job runs by job and result', ['job', 'result']);

  const offs = [
    core.bus.on('provisioning.request', (e) => {
      const { vendor, outcome, ms } = e.data;
      provRequests.inc({ vendor, outcome });
      if (Number.isFinite(ms)) provLatency.observe({ vendor }, ms / 1000);
    }),
    core.bus.on('job.finished', (e) => {
      jobRuns.inc({ job: e.data.name, result: e.data.ok ? 'ok' : 'failed' });
    }),
  ];
  return () => offs.forEach((off) => off());
}
