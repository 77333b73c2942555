import { execFile } from 'node:child_process';
import { expect } from 'chai';
import { TestDaemon } from './support/daemon.js';
import { parsePrometheus, sampleValue } from './support/systemd.js';
import { EventBus } from '../daemon/kernel/events.js';
import { MetricsRegistry } from '../daemon/kernel/metrics.js';
import { registerCoreMetrics } from '../daemon/core/core-metrics.js';
import type { Core } from '../daemon/core/core.js';

describe('/metrics', function () {
  let d: TestDaemon;
  before(async () => {
    // Loopback alone is not enough here: the token path is what a remote Prometheus uses.
    d = await TestDaemon.start({ config: { metrics: { allowLoopback: false } } });
  });
  after(async () => d.dispose());

  const scrape = async () => {
    const r = await d.request('GET', '/metrics');
    expect(r.status, r.text).to.equal(200);
    return parsePrometheus(r.text);
  };

  it('needs an admin token when loopback access is off', async () => {
    const none = await d.request('GET', '/metrics', { auth: false });
    expect(none.status).to.equal(401);
    expect(none.json.error.code).to.equal('AUTH_REQUIRED');
    const bad = await d.request('GET', '/metrics', { auth: false, headers: { authorization: 'Bearer not-a-token' } });
    expect(bad.status).to.equal(401);
    expect((await d.request('GET', '/healthz', { auth: false })).status, '/healthz stays open').to.equal(200);
  });

  it('parses as Prometheus text and shows Entry mode with its allowance', async () => {
    const { types, samples } = await scrape();
    expect(types).to.include({ pbxd_license_mode: 'gauge', pbxd_license_used: 'gauge', pbxd_provisioning_requests_total: 'counter', pbxd_provisioning_request_duration_seconds: 'histogram', pbxd_job_runs_total: 'counter' });
    expect(sampleValue(samples, 'pbxd_license_mode', { mode: 'entry' })).to.equal(1);
    expect(sampleValue(samples, 'pbxd_license_mode', { mode: 'licensed' })).to.equal(0);
    expect(sampleValue(samples, 'pbxd_license_granted', { code: 'users' })).to.equal(5);
  });

  it('matches the appliance state after a license is installed', async () => {
    await d.installLicense({ edition: 'Enterprise', quantities: { users: 501, 'devices.cisco': 40, 'devices.unify': 30 }, perUser: { clientbundle: 200 } });
    const status = await d.status();
    const { samples } = await scrape();
    expect(sampleValue(samples, 'pbxd_license_mode', { mode: 'licensed' })).to.equal(1);
    expect(sampleValue(samples, 'pbxd_license_mode', { mode: 'entry' })).to.equal(0);
    for (const c of status.codes) {
      expect(sampleValue(samples, 'pbxd_license_granted', { code: c.code }), c.code).to.equal(c.total);
      expect(sampleValue(samples, 'pbxd_license_used', { code: c.code }), c.code).to.equal(c.used);
    }
    expect(sampleValue(samples, 'pbxd_license_granted', { code: 'clientbundle', scope: 'user' })).to.equal(200);
    expect(sampleValue(samples, 'pbxd_license_expiry_timestamp_seconds')).to.equal(status.expiresAt ? Date.parse(status.expiresAt) / 1000 : undefined);
  });

  it('passes promtool check metrics (names, types, units, help)', async () => {
    const r = await d.request('GET', '/metrics');
    const promtool = process.env.PROMTOOL_PATH ?? 'promtool';
    const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const p = execFile(promtool, ['check', 'metrics'], (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, text: stdout + stderr }));
      p.stdin!.end(r.text);
    });
    expect(out.text.trim(), 'promtool findings').to.equal('');
    expect(out.code).to.equal(0);
  });

  it('counts admin API tokens and browser sessions', async () => {
    const before = sampleValue((await scrape()).samples, 'pbxd_admin_sessions', { kind: 'api' })!;
    expect(before, 'the test client logged in with a token').to.be.at.least(1);
    const t = await d.request('POST', '/api/v1/tokens', { body: { label: 'prometheus' } });
    expect(t.status).to.equal(201);
    const login = await d.request('POST', '/api/v1/auth/login', { auth: false, body: { name: 'admin', password: 'test-admin-password-1' } });
    expect(login.status).to.equal(200);
    const { samples } = await scrape();
    expect(sampleValue(samples, 'pbxd_admin_sessions', { kind: 'api' })).to.equal(before + 1);
    expect(sampleValue(samples, 'pbxd_admin_sessions', { kind: 'session' })).to.equal(1);
  });
});

describe('core metrics from bus events', function () {
  it('counts provisioning requests by outcome with a latency histogram, and job results', async () => {
    const bus = new EventBus();
    const metrics = new MetricsRegistry();
    const core = { metrics, bus, licensing: { mode: () => ({ mode: 'entry', expiresAt: null }), codeLines: async () => [] }, admins: { liveTokens: async () => ({ session: 0, api: 0 }) }, build: { version: '1', buildDate: '2026-01-01' } };
    const off = registerCoreMetrics(core as unknown as Core);
    const ms = [3, 30, 30, 700, 12_000];
    for (const m of ms) bus.emit('provisioning.request', { vendor: 'cisco', outcome: m === 700 ? 'refused_license' : 'served', ms: m });
    bus.emit('job.finished', { name: 'backup', ok: true, result: 'backup pbxd-x.db', ms: 5 });
    bus.emit('job.finished', { name: 'backup', ok: false, result: 'failed: disk full', ms: 5 });
    bus.emit('job.finished', { name: 'backup', ok: true, result: 'backup pbxd-x.db', ms: 5 });
    off();
    bus.emit('job.finished', { name: 'backup', ok: true, result: 'backup pbxd-x.db', ms: 5 }); // after unsubscribing: not counted

    const { samples } = parsePrometheus(await metrics.render());
    expect(sampleValue(samples, 'pbxd_provisioning_requests_total', { vendor: 'cisco', outcome: 'served' })).to.equal(4);
    expect(sampleValue(samples, 'pbxd_provisioning_requests_total', { vendor: 'cisco', outcome: 'refused_license' })).to.equal(1);
    const bucket = (le: string) => sampleValue(samples, 'pbxd_provisioning_request_duration_seconds_bucket', { vendor: 'cisco', le });
    expect(bucket('0.005')).to.equal(1);
    expect(bucket('0.05')).to.equal(3);
    expect(bucket('1')).to.equal(4);
    expect(bucket('10')).to.equal(4);
    expect(bucket('+Inf')).to.equal(5);
    expect(sampleValue(samples, 'pbxd_provisioning_request_duration_seconds_count', { vendor: 'cisco' })).to.equal(5);
    expect(sampleValue(samples, 'pbxd_provisioning_request_duration_seconds_sum', { vendor: 'cisco' })).to.be.closeTo(12.763, 1e-9);
    expect(sampleValue(samples, 'pbxd_job_runs_total', { job: 'backup', result: 'ok' })).to.equal(2);
    expect(sampleValue(samples, 'pbxd_job_runs_total', { job: 'backup', result: 'failed' })).to.equal(1);
  });

  it('escapes label values and refuses a metric registered twice', async () => {
    const metrics = new MetricsRegistry();
    metrics.gauge('x_info', 'odd "labels"\nhelp', ['name'], () => [{ labels: { name: 'a "quoted" \\ back\nslash' }, value: 1 }]);
    expect(() => metrics.gauge('x_info', 'again')).to.throw(/twice/);
    expect(() => metrics.gauge('x_things_total', 'a gauge named like a counter')).to.throw(/only counters end in _total/);
    expect(() => metrics.counter('x_things', 'a counter without its suffix')).to.throw(/must end in _total/);
    const text = await metrics.render();
    expect(text).to.contain('x_info{name="a \\"quoted\\" \\\\ back\\nslash"} 1');
    expect(parsePrometheus(text).samples[0]!.labels.name).to.equal('a "quoted" \\ back\nslash');
  });
});
