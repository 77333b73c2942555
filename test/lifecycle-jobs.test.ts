import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, TestDaemon } from './support/daemon.js';
import { eventually } from './support/eventually.js';
import { runJob, waitForLine } from './support/lifecycle.js';
import { JobRegistry } from '../daemon/core/jobs.js';
import { EventBus } from '../daemon/kernel/events.js';
import { defineMessages } from '../daemon/kernel/messages.js';
import { silentLogger } from '../daemon/kernel/log.js';
import { systemClock } from '../daemon/kernel/clock.js';
import { defaults } from '../daemon/config.js';
import { Scheduler } from '../daemon/scheduler.js';
import type { Core } from '../daemon/core/core.js';

function run(bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, LANG: 'C' } }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })),
  );
}

describe('scheduled jobs', function () {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start({ config: { jobs: { backup: { keep: 2 } } } });
  });
  after(async () => d.dispose());

  it('lists every job with its schedule, next run and last result', async () => {
    const r = await d.request('GET', '/api/v1/jobs');
    expect(r.status).to.equal(200);
    const byName = Object.fromEntries(r.json.jobs.map((j: any) => [j.name, j]));
    expect(Object.keys(byName).sort()).to.deep.equal(['autoAttendants', 'backup', 'clockRollback', 'expiryWatch', 'licenseCheck', 'staleDevices', 'usagePeaks']);
    expect(byName.expiryWatch).to.include({ schedule: '* * * * *', enabled: true, running: false });
    expect(Date.parse(byName.expiryWatch.nextRun)).to.be.greaterThan(Date.now() - 1000);
    expect(byName.expiryWatch.lastRun.ok, 'it ran at start').to.equal(true);
    expect(byName.staleDevices).to.include({ enabled: false, nextRun: null });
    expect(byName.licenseCheck.nextRun).to.be.a('string');
  });

  it('runs a job on demand and shows the result (pbxctl jobs run)', async () => {
    const r = await d.ctl(['jobs', 'run', 'licenseCheck']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('licenseCheck: ok — skipped: no activation server configured');
    const list = await d.ctl(['jobs']);
    expect(list.stdout).to.match(/licenseCheck\s+17 3 \* \* \*\s+yes/);
  });

  it('refuses an unknown job and a disabled one, and runs neither', async () => {
    const nope = await d.request('POST', '/api/v1/jobs/nope/run');
    expect(nope.status).to.equal(404);
    expect(nope.json.error.code).to.equal('JOB_NOT_FOUND');
    const stale = await d.request('POST', '/api/v1/jobs/staleDevices/run');
    expect(stale.status).to.equal(409);
    expect(stale.json.error.code).to.equal('JOB_DISABLED');
    const job = (await d.request('GET', '/api/v1/jobs')).json.jobs.find((j: any) => j.name === 'staleDevices');
    expect(job.lastRun, 'the disabled job never ran').to.equal(null);
  });

  it('backs up the database and keeps only the newest N', async () => {
    for (let i = 0; i < 3; i++) expect((await runJob(d, 'backup')).lastRun.ok).to.equal(true);
    const r = await d.ctl(['backup', 'list', '--json']);
    const list = JSON.parse(r.stdout);
    expect(list.backups).to.have.length(2);
    expect(list.backups[0].name).to.match(/^pbxd-\d{8}-\d{6}(-\d+)?\.db$/);
    expect(readdirSync(join(d.dataDir, 'backups'))).to.have.length(2);
  });

  it('produces a signed usage report the vendor verifies offline, and detects an edit', async () => {
    await d.installLicense({ licenseId: 'LIC-USAGE', edition: 'Enterprise' });
    const out = join(d.dataDir, 'usage.json');
    const r = await d.ctl(['usage', 'report', '--out', out]);
    expect(r.code, r.stderr).to.equal(0);
    const month = new Date().toISOString().slice(0, 7);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.report).to.include({ systemId: d.systemId });
    expect(doc.report.license.licenseId).to.equal('LIC-USAGE');
    expect(doc.report.months.map((m: any) => m.month)).to.include(month);
    expect(doc.report.months.at(-1).peaks).to.include.keys('users', 'devices.cisco', 'devices.unify', 'clientbundle');

    const ok = await run(BIN.pbxLicense, ['verify-usage', out]);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.include(`genuine: signed by appliance ${d.systemId}`);
    const fingerprint = /key (SHA256:[0-9a-f:]+)/.exec(ok.stdout)![1]!;
    expect((await run(BIN.pbxLicense, ['verify-usage', out, '--pin', fingerprint])).code).to.equal(0);
    expect((await run(BIN.pbxLicense, ['verify-usage', out, '--pin', 'SHA256:00'])).code, 'another pinned key').to.equal(2);

    doc.report.months.at(-1).peaks.users = 1;
    writeFileSync(out, JSON.stringify(doc));
    const bad = await run(BIN.pbxLicense, ['verify-usage', out]);
    expect(bad.code).to.equal(2);
    expect(bad.stdout).to.include('REFUSED: the signature does not match the contents');
  });

  it('records the month\'s peak as usage rises, and keeps it when usage falls again', async () => {
    const peaksRun = (text: string) =>
      eventually(async () => {
        const job = (await d.request('GET', '/api/v1/jobs')).json.jobs.find((j: any) => j.name === 'usagePeaks');
        if (!(job.lastRun?.trigger === 'event' && job.lastRun.result.includes(text))) throw new Error(`usagePeaks never ran with ${text}`);
      });
    const before = (await d.status()).codes.find((c: any) => c.code === 'users').used;
    for (const u of ['peak1', 'peak2', 'peak3']) expect((await d.request('POST', '/api/v1/users', { body: { userName: u } })).status).to.equal(201);
    await peaksRun(`users ${before + 3}`);
    for (const u of ['peak1', 'peak2']) expect((await d.request('DELETE', `/api/v1/users/${u}`)).status).to.equal(200);
    await peaksRun(`users ${before + 1}`);

    const out = join(d.dataDir, 'usage-peak.json');
    expect((await d.ctl(['usage', 'report', '--out', out])).code).to.equal(0);
    const month = new Date().toISOString().slice(0, 7);
    const peaks = JSON.parse(readFileSync(out, 'utf8')).report.months.find((m: any) => m.month === month).peaks;
    expect(peaks.users, 'the peak, not the users left').to.equal(before + 3);
  });

  it("keeps the appliance's private key readable only by pbxd", () => {
    expect(statSync(join(d.dataDir, 'keys', 'appliance.key')).mode & 0o777).to.equal(0o600);
  });

  it('refuses a malformed month for the usage report', async () => {
    const r = await d.request('GET', '/api/v1/usage/report?month=2026-13');
    expect(r.status).to.equal(400);
    expect(r.json.error.code).to.equal('USAGE_MONTH_INVALID');
  });
});

describe('backup restore', function () {
  let d: TestDaemon;
  let dataDir: string;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pbxd-restore-'));
    d = await TestDaemon.start({ dataDir });
  });
  after(async () => {
    await d.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('round trip: back up, change, stop, restore, start with the backed-up state', async () => {
    await d.installLicense({ licenseId: 'LIC-BEFORE' });
    const now = await d.ctl(['backup', 'now', '--json']);
    expect(now.code, now.stderr).to.equal(0);
    const file = JSON.parse(now.stdout).backup.path as string;
    await d.installLicense({ licenseId: 'LIC-AFTER' });

    const running = await run(BIN.pbxctl, ['backup', 'restore', file, '--config', d.configFile]);
    expect(running.code).to.equal(1);
    expect(running.stderr).to.include('JOB_RESTORE_DAEMON_RUNNING');

    await d.stop();
    const garbage = join(dataDir, 'not-a-backup.db');
    writeFileSync(garbage, 'hello');
    const bad = await run(BIN.pbxctl, ['backup', 'restore', garbage, '--config', d.configFile]);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include('JOB_RESTORE_NOT_A_BACKUP');

    const ok = await run(BIN.pbxctl, ['backup', 'restore', file, '--config', d.configFile]);
    expect(ok.code, ok.stderr).to.equal(0);
    const kept = readdirSync(dataDir).filter((n) => n.startsWith('pbxd.db.before-restore-') && !n.endsWith('-wal') && !n.endsWith('-shm'));
    expect(kept).to.have.length(1);

    d = await TestDaemon.start({ dataDir });
    expect((await d.status()).licenseId).to.equal('LIC-BEFORE');
    expect(existsSync(join(dataDir, 'pbxd.db.restoring'))).to.equal(false);
  });
});

describe('stale devices job', function () {
  it('is off by default; when enabled it runs and releases through the device service', async () => {
    const d = await TestDaemon.start({ config: { jobs: { staleDevices: { enabled: true, days: 30, schedule: '0 4 * * *' } } } });
    try {
      const job = await runJob(d, 'staleDevices');
      expect(job).to.include({ enabled: true, schedule: '0 4 * * *' });
      expect(job.nextRun).to.be.a('string');
      expect(job.lastRun.ok).to.equal(true);
      // Without the device service (another feature) there is nothing to release; with it, "released N device(s) not seen for 30 days".
      expect(job.lastRun.result).to.match(/^(no device service|released \d+ device\(s\) not seen for 30 days)$/);
    } finally {
      await d.dispose();
    }
  });

  it('is switched on by a SIGHUP reload of the configuration, without a restart', async () => {
    const d = await TestDaemon.start();
    try {
      const before = (await d.request('GET', '/api/v1/jobs')).json.jobs.find((j: any) => j.name === 'staleDevices');
      expect(before).to.include({ enabled: false, nextRun: null });
      const cfg = JSON.parse(readFileSync(d.configFile, 'utf8'));
      cfg.jobs = { staleDevices: { enabled: true, schedule: '15 5 * * *' }, backup: { keep: 3 } };
      writeFileSync(d.configFile, JSON.stringify(cfg));
      process.kill(d.pid, 'SIGHUP');
      await waitForLine(d, /^<5>configuration reloaded .*jobs\.staleDevices\.enabled/);
      const after = (await d.request('GET', '/api/v1/jobs')).json.jobs.find((j: any) => j.name === 'staleDevices');
      expect(after).to.include({ enabled: true, schedule: '15 5 * * *' });
      expect(new Date(after.nextRun).getMinutes()).to.equal(15);
      expect((await runJob(d, 'staleDevices')).lastRun.ok).to.equal(true);
    } finally {
      await d.dispose();
    }
  });

  it('refuses to start with a schedule that is not a cron expression', async () => {
    let err: Error | null = null;
    await TestDaemon.start({ config: { jobs: { backup: { schedule: 'every night' } } } }).catch((e: Error) => (err = e));
    expect(String(err)).to.match(/exited with 78/);
    expect(String(err)).to.include('jobs.backup.schedule: must be a cron expression');
  });
});

/** A job's result is a message of the catalogue; these are the test jobs' own. */
const testSay = defineMessages({ 'test.run': { en: 'run {n}', de: 'Lauf {n}' }, 'test.ok': { en: 'ok', de: 'gut' } });

describe('job registry', function () {
  it('never runs one job twice at once: a cron tick during a run is skipped, a manual run waits', async () => {
    const jobs = new JobRegistry(new EventBus(), silentLogger);
    let running = 0;
    let most = 0;
    let runs = 0;
    let release!: () => void;
    jobs.register({
      name: 'slow',
      schedule: '* * * * *',
      enabled: true,
      run: async () => {
        running++;
        most = Math.max(most, running);
        runs++;
        if (runs === 1) await new Promise<void>((r) => (release = r));
        running--;
        return testSay('test.run', { n: runs });
      },
    });
    const first = jobs.trigger('slow', 'schedule');
    await new Promise((r) => setImmediate(r));
    expect(jobs.info('slow').running).to.equal(true);
    await jobs.trigger('slow', 'schedule');
    expect(jobs.info('slow').lastRun!.result).to.equal('skipped: still running');
    const manual = jobs.runNow('slow');
    release();
    await first;
    const info = await manual;
    expect(info.lastRun!.result).to.equal('run 2');
    expect(most).to.equal(1);
    expect(runs).to.equal(2);
  });
});

describe('scheduler reload', function () {
  it('applies new schedules and enabled flags from a reloaded configuration', async () => {
    const bus = new EventBus();
    const jobs = new JobRegistry(bus, silentLogger);
    const config = defaults('/nonexistent');
    for (const [name, j] of Object.entries(config.jobs)) jobs.register({ name, schedule: j.schedule, enabled: j.enabled, run: async () => testSay('test.ok') });
    const lifecycle = { reload: () => undefined, expiry: { nextBoundary: () => null }, checkClock: async () => 'ok' };
    const scheduler = new Scheduler({ jobs, bus, lifecycle, clock: systemClock, log: silentLogger } as unknown as Core);
    await scheduler.start();
    try {
      expect(jobs.info('staleDevices')).to.include({ enabled: false, nextRun: null });
      config.jobs.staleDevices = { enabled: true, schedule: '15 5 * * *', days: 10 };
      config.jobs.backup.enabled = false;
      scheduler.reload(config, ['jobs.staleDevices.enabled', 'jobs.staleDevices.schedule', 'jobs.backup.enabled']);
      const stale = jobs.info('staleDevices');
      expect(stale).to.include({ enabled: true, schedule: '15 5 * * *' });
      expect(new Date(stale.nextRun!).getMinutes()).to.equal(15);
      expect(jobs.info('backup')).to.include({ enabled: false, nextRun: null });
    } finally {
      await scheduler.stop();
    }
  });
});
