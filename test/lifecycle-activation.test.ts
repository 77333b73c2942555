import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, TestDaemon } from './support/daemon.js';
import { ActivationFixture, DAY, iso, runJob, tamper, waitForLine } from './support/lifecycle.js';
import { issueLicense } from '../tools/license-issuer.js';

describe('renewal through the activation server', function () {
  let server: ActivationFixture;
  let d: TestDaemon;
  let T0 = 0;

  before(async () => {
    T0 = Date.now();
    server = await ActivationFixture.start();
    d = await TestDaemon.start({ config: { activation: { url: server.url, timeoutMs: 500 } } });
    server.requestKeys({
      '1234567890': { spec: { licenseId: 'LIC-7000', edition: 'Enterprise', quantities: { users: 100, 'devices.cisco': 20, 'devices.unify': 0 }, perUser: { clientbundle: 50 } } },
      '5555555555': { systemId: 'AAAA-BBBB-CCCC-DDDD', spec: { licenseId: 'LIC-OTHER' } },
    });
  });
  after(async () => {
    await d.dispose();
    await server.dispose();
  });

  const licenseId = async () => (await d.status()).licenseId;

  it('reports "nothing new" when the server has no license for this appliance', async () => {
    const r = await d.request('POST', '/api/v1/license/check');
    expect(r.status).to.equal(200);
    expect(r.json.result).to.equal('nothing new');
  });

  it('refuses a request key that is not 10 digits, without asking the server', async () => {
    const r = await d.request('POST', '/api/v1/license/request', { body: { requestKey: '12345' } });
    expect(r.status).to.equal(400);
    expect(r.json.error.code).to.equal('ACT_REQUEST_KEY_INVALID');
  });

  it('refuses a request key the server does not know, and stays in Entry', async () => {
    const r = await d.request('POST', '/api/v1/license/request', { body: { requestKey: '9999999999' } });
    expect(r.status).to.equal(404);
    expect(r.json.error.code).to.equal('ACT_REQUEST_KEY_UNKNOWN');
    expect((await d.status()).mode).to.equal('entry');
  });

  it('refuses a request key bound to another system', async () => {
    const r = await d.request('POST', '/api/v1/license/request', { body: { requestKey: '5555555555' } });
    expect(r.status).to.equal(409);
    expect(r.json.error.code).to.equal('ACT_REQUEST_KEY_REFUSED');
    expect(r.json.error.message).to.include('AAAA-BBBB-CCCC-DDDD');
  });

  it('turns a request key into a provisional license valid 90 days (pbxctl license request)', async () => {
    const r = await d.ctl(['license', 'request', '1234567890']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('provisional license LIC-7000 is now in force');
    const s = await d.status();
    expect(s).to.include({ mode: 'licensed', licenseId: 'LIC-7000', edition: 'Enterprise', provisional: true, kind: 'provisional' });
    const days = (Date.parse(s.expiresAt) - Date.parse(s.now)) / DAY;
    expect(days).to.be.within(89.9, 90.1);
    expect(s.codes.find((c: any) => c.code === 'users').total).to.equal(100);
  });

  it('warns as the 90 days of the provisional license run out', async () => {
    await d.setClock(new Date(T0 + 85.5 * DAY));
    await runJob(d, 'expiryWatch');
    await waitForLine(d, /^<4>provisional license expires soon .*kind=provisional daysLeft=5 licenseId=LIC-7000/);
  });

  it('keeps the provisional license while the server has nothing newer', async () => {
    const r = await d.request('POST', '/api/v1/license/check');
    expect(r.json.result).to.equal('nothing new');
    expect((await d.status()).provisional).to.equal(true);
  });

  it('replaces it with the final license once the server has it', async () => {
    server.publish(d.systemId, 'final.lic', d.license({ licenseId: 'LIC-7000', edition: 'Enterprise', issuedAt: iso(T0 + 10_000), expiresAt: iso(T0 + 500 * DAY) }));
    const r = await d.ctl(['license', 'check', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.include({ result: 'installed', licenseId: 'LIC-7000' });
    const s = await d.status();
    expect(s).to.include({ provisional: false, kind: 'final', mode: 'licensed' });
    expect(s.expiresAt).to.equal(iso(T0 + 500 * DAY));
    expect((await d.request('POST', '/api/v1/license/check')).json.result, 'asked again').to.equal('nothing new');
  });

  it('keeps a file that grants less than is in use staged and reports "needs removals"; nothing changes', async () => {
    for (const userName of ['anna', 'bert', 'carl']) {
      const r = await d.request('POST', '/api/v1/users', { body: { userName, firstName: 'F', lastName: userName } });
      expect(r.status, r.text).to.equal(201);
    }
    const file = server.publish(d.systemId, 'smaller.lic', d.license({ licenseId: 'LIC-7000', issuedAt: iso(T0 + 15_000), expiresAt: iso(T0 + 600 * DAY), quantities: { users: 1, 'devices.cisco': 0, 'devices.unify': 0 } }));
    const r = await d.request('POST', '/api/v1/license/check');
    expect(r.status).to.equal(200);
    expect(r.json.result).to.equal('needs removals');
    expect(r.json.overused.find((c: any) => c.code === 'users')).to.include({ used: 3, newTotal: 1, toRemove: 2 });
    const s = await d.status();
    expect(s.expiresAt, 'the license in force stays').to.equal(iso(T0 + 500 * DAY));
    expect(s.codes.find((c: any) => c.code === 'users').total).to.equal(25);
    const staged = await d.request('GET', '/api/v1/license/staged');
    expect(staged.json.stageId).to.equal(r.json.stageId);
    server.unpublish(file);
  });

  async function refusedAndUnchanged(code: string, status: number): Promise<void> {
    const before = await d.status();
    const r = await d.request('POST', '/api/v1/license/check');
    expect(r.status, r.text).to.equal(status);
    expect(r.json.error.code).to.equal(code);
    const after = await d.status();
    expect(after.licenseId).to.equal(before.licenseId);
    expect(after.expiresAt).to.equal(before.expiresAt);
    expect(after.codes).to.deep.equal(before.codes);
  }

  it('refuses a tampered answer; the license in force is unchanged', async () => {
    const file = server.publish(d.systemId, 'tampered.lic', tamper(d.license({ licenseId: 'LIC-7001', issuedAt: iso(T0 + 20_000), expiresAt: iso(T0 + 900 * DAY) })));
    await refusedAndUnchanged('LIC_SIGNATURE_INVALID', 422);
    server.unpublish(file);
  });

  it('refuses an answer made for another system id', async () => {
    const file = server.publish(d.systemId, 'foreign.lic', issueLicense({ systemId: 'AAAA-BBBB-CCCC-DDDD', licenseId: 'LIC-FOREIGN', issuedAt: iso(T0 + 30_000) }));
    await refusedAndUnchanged('LIC_SYSTEM_ID_MISMATCH', 422);
    server.unpublish(file);
  });

  it('reports a server error (5xx) as the job result, and changes nothing', async () => {
    server.mode = 'error503';
    await refusedAndUnchanged('ACT_SERVER_ERROR', 502);
    const job = await runJob(d, 'licenseCheck');
    expect(job.lastRun.ok).to.equal(false);
    expect(job.lastRun.result).to.match(/^ACT_SERVER_ERROR: .*HTTP 503/);
  });

  it('gives up on a server that does not answer within activation.timeoutMs', async () => {
    server.mode = 'hang';
    await refusedAndUnchanged('ACT_TIMEOUT', 504);
  });

  it('says so when the server is down', async () => {
    server.mode = 'serve';
    await server.down();
    await refusedAndUnchanged('ACT_UNREACHABLE', 502);
    const r = await d.ctl(['license', 'check']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/ACT_UNREACHABLE: The activation server http:\/\/127\.0\.0\.1:\d+ cannot be reached \(ECONNREFUSED\)/);
    await server.up();
  });

  it('offline: the final file pasted as text is verified and installed the same way', async () => {
    const text = d.license({ licenseId: 'LIC-PASTED', issuedAt: iso(T0 + 40_000), expiresAt: iso(T0 + 800 * DAY) });
    const bad = await d.ctl(['license', 'install', '-'], tamper(text));
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include('LIC_SIGNATURE_INVALID');
    const r = await d.ctl(['license', 'install', '-'], text);
    expect(r.code, r.stderr).to.equal(0);
    expect(await licenseId()).to.equal('LIC-PASTED');
  });
});

describe('the activation server program (pbx-activation-server)', function () {
  it('serves the protocol from a folder given on the command line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbxd-actsrv-'));
    const child = spawn(process.execPath, [join(BIN.pbxLicense, '..', 'activation-server.js'), '--dir', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          const m = /listening on (http:\/\/\S+)/.exec(c.toString());
          if (m) resolve(m[1]!);
        });
        child.on('exit', (code) => reject(new Error(`exited with ${code}`)));
      });
      const none = await fetch(url + '/v1/check', { method: 'POST', body: JSON.stringify({ systemId: '1111-2222-3333-4444', licenseId: null, issuedAt: null }) });
      expect(await none.json()).to.deep.equal({ status: 'none' });
      const bad = await fetch(url + '/v1/check', { method: 'POST', body: JSON.stringify({ systemId: '../../etc' }) });
      expect(bad.status).to.equal(400);
    } finally {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints its usage without --dir', async () => {
    const out = await new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile(process.execPath, [join(BIN.pbxLicense, '..', 'activation-server.js')], (err, stdout) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, stdout })),
    );
    expect(out.code).to.equal(64);
    expect(out.stdout).to.include('request-keys.json');
  });
});
