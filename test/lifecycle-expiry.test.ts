import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { TestDaemon } from './support/daemon.js';
import { DAY, iso, logBarrier, runJob, waitForLine } from './support/lifecycle.js';

const count = (d: TestDaemon, re: RegExp) => d.output.filter((l) => re.test(l)).length;

describe('license lifecycle: warnings, grace, Entry and renewal on the daemon clock', function () {
  let d: TestDaemon;
  let T0 = 0;
  const at = (days: number) => new Date(T0 + days * DAY);

  before(async () => {
    T0 = Date.now();
    d = await TestDaemon.start();
    await d.installLicense({ licenseId: 'LIC-EXP', expiresAt: iso(T0 + 40 * DAY) });
  });
  after(async () => {
    await d.dispose();
    rmSync(d.dataDir, { recursive: true, force: true });
  });

  it('sends no warning while the license has more than 30 days left', async () => {
    const job = await runJob(d, 'expiryWatch');
    expect(job.lastRun.ok).to.equal(true);
    expect(job.lastRun.result).to.equal('mode licensed');
    expect(count(d, /license expires soon/)).to.equal(0);
  });

  it('warns once at 30, 7 and 1 days before expiry, as a log line per threshold', async () => {
    await d.setClock(at(11));
    await runJob(d, 'expiryWatch');
    await waitForLine(d, /^<4>license expires soon .*kind=expiry daysLeft=29 licenseId=LIC-EXP/);
    await runJob(d, 'expiryWatch');
    await d.setClock(at(34));
    await runJob(d, 'expiryWatch');
    await waitForLine(d, /^<4>license expires soon .*kind=expiry daysLeft=6 /);
    await d.setClock(at(39.5));
    await runJob(d, 'expiryWatch');
    await waitForLine(d, /^<4>license expires soon .*kind=expiry daysLeft=1 /);
    await runJob(d, 'expiryWatch');
    await logBarrier(d);
    expect(count(d, /license expires soon/), 'one line per threshold, never repeated').to.equal(3);
    expect((await d.status()).mode).to.equal('licensed');
  });

  it('moves into Grace at the moment of expiry without any request, and warns for the grace day', async () => {
    await d.setClock(new Date(T0 + 40 * DAY - 1500));
    expect((await d.status()).mode).to.equal('licensed');
    // No request from here on: the scheduler's boundary timer must notice the expiry by itself.
    await waitForLine(d, /^<4>mode changed from=licensed to=grace/, 5000);
    await waitForLine(d, /^<4>license expired: grace period running .*kind=grace daysLeft=14 /);
    const s = await d.status();
    expect(s.mode).to.equal('grace');
    expect(s.graceDaysLeft).to.equal(14);
  });

  it('does not repeat a warning after a restart, and a restart does not turn the clock back', async () => {
    d = await d.restart();
    // The development clock offset is gone after the restart; the trusted time is not.
    const s = await d.status();
    expect(s.mode).to.equal('grace');
    expect(new Date(s.now).getTime(), 'the trusted time from before the restart').to.be.at.least(T0 + 40 * DAY - 1500);
    await runJob(d, 'expiryWatch');
    await logBarrier(d);
    expect(count(d, /grace period running/)).to.equal(0);
  });

  it('warns on each further day of grace', async () => {
    await d.setClock(at(45.5));
    await runJob(d, 'expiryWatch');
    await waitForLine(d, /^<4>license expired: grace period running .*kind=grace daysLeft=9 /);
  });

  it('falls to Entry when the grace period ends, and says why', async () => {
    await d.setClock(at(54.1));
    await runJob(d, 'expiryWatch');
    await waitForLine(d, /^<4>mode changed from=grace to=entry/);
    const s = await d.status();
    expect(s.mode).to.equal('entry');
    expect(s.reason.code).to.equal('MODE_LICENSE_EXPIRED');
    expect(s.codes.find((c: any) => c.code === 'users').total).to.equal(5);
  });

  it('is Licensed again once a renewed license is installed', async () => {
    await d.installLicense({ licenseId: 'LIC-RENEWED', expiresAt: iso(T0 + 420 * DAY) });
    const s = await d.status();
    expect(s.mode).to.equal('licensed');
    expect(s.licenseId).to.equal('LIC-RENEWED');
    await waitForLine(d, /^<4>mode changed from=entry to=licensed/);
  });
});

describe('clock rollback', function () {
  let d: TestDaemon;
  let T0 = 0;

  before(async () => {
    T0 = Date.now();
    d = await TestDaemon.start({ config: { jobs: { clockRollback: { toleranceMinutes: 60 } } } });
    await d.installLicense({ licenseId: 'LIC-ROLL', expiresAt: iso(T0 + 30 * DAY) });
  });
  after(async () => d.dispose());

  it('setting the clock back a month does not make the license last longer', async () => {
    await d.setClock(new Date(T0 + 35 * DAY));
    const before = await d.status();
    expect(before.mode).to.equal('grace');
    expect(before.graceDaysLeft).to.equal(9);

    await d.setClock(new Date(T0 + 5 * DAY));
    const after = await d.status();
    expect(after.mode, 'still in grace, not Licensed again').to.equal('grace');
    expect(after.graceDaysLeft).to.equal(9);
    expect(new Date(after.now).getTime()).to.be.at.least(T0 + 35 * DAY);
  });

  it('reports the system clock behind the trusted time, as a job result and a log line', async () => {
    const job = await runJob(d, 'clockRollback');
    expect(job.lastRun.result).to.match(/^The system clock is 43200 minute\(s\) behind the trusted time/);
    expect(job.lastRun.text.de).to.match(/^Die Systemuhr geht 43200 Minute\(n\) hinter der vertrauenswürdigen Zeit/);
    await waitForLine(d, /^<4>system clock is behind the trusted time.*behindMinutes=43200/);
  });

  it('is quiet again once the system clock has caught up', async () => {
    await d.setClock(new Date(T0 + 36 * DAY));
    const job = await runJob(d, 'clockRollback');
    expect(job.lastRun.result).to.equal('system clock ok');
    expect((await d.status()).graceDaysLeft).to.equal(8);
  });
});

describe('scheduled activation', function () {
  let d: TestDaemon;
  let T0 = 0;

  before(async () => {
    T0 = Date.now();
    d = await TestDaemon.start();
  });
  after(async () => d.dispose());

  it('accepts a file valid from a later day, shows "activates on …", and changes nothing yet', async () => {
    const validFrom = iso(T0 + 2 * DAY);
    const r = await d.request('POST', '/api/v1/license', { raw: d.license({ licenseId: 'LIC-NEXT', validFrom, expiresAt: iso(T0 + 400 * DAY) }) });
    expect(r.status).to.equal(200);
    expect(r.json.activatesAt).to.equal(validFrom);
    const s = await d.status();
    expect(s.mode).to.equal('entry');
    expect(s.scheduled).to.deep.equal({ licenseId: 'LIC-NEXT', activatesAt: validFrom });
    expect((await d.ctl(['status'])).stdout).to.match(new RegExp(`Scheduled:\\s+LIC-NEXT activates on ${validFrom}`));
    const audit = await d.request('GET', '/api/v1/audit?action=license.schedule');
    expect(audit.json.entries.map((e: any) => e.subject)).to.deep.equal(['LIC-NEXT']);
  });

  it('is swapped in by the scheduler on that day, with its own audit entry', async () => {
    await d.setClock(new Date(T0 + 2 * DAY + 60_000));
    await runJob(d, 'expiryWatch');
    const s = await d.status();
    expect(s.mode).to.equal('licensed');
    expect(s.licenseId).to.equal('LIC-NEXT');
    expect(s.scheduled).to.equal(null);
    const audit = await d.request('GET', '/api/v1/audit?action=license.activate.scheduled');
    expect(audit.json.entries).to.have.length(1);
    expect(audit.json.entries[0]).to.include({ actor: 'scheduler', subject: 'LIC-NEXT' });
  });
});
