import { expect } from 'chai';
import { TestDaemon } from './support/daemon.js';

describe('license install and Entry mode', function () {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(async () => d.dispose());

  it('starts in Entry mode with 5 users and says why', async () => {
    const s = await d.status();
    expect(s.mode).to.equal('entry');
    expect(s.edition).to.equal('Entry');
    expect(s.reason.code).to.equal('MODE_NO_LICENSE');
    expect(s.systemId).to.match(/^[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}$/);
    const users = s.codes.find((c: any) => c.code === 'users');
    expect(users.total).to.equal(5);
    expect(s.codes.filter((c: any) => c.code !== 'users').every((c: any) => c.total === 0)).to.equal(true);
  });

  it('refuses every admin API call without authentication with 401', async () => {
    for (const [m, p] of [['GET', '/api/v1/status'], ['POST', '/api/v1/license'], ['GET', '/api/v1/audit']] as const) {
      const r = await d.request(m, p, { auth: false, raw: m === 'POST' ? 'x' : undefined });
      expect(r.status, `${m} ${p}`).to.equal(401);
      expect(r.json.error.code).to.equal('AUTH_REQUIRED');
    }
    const bad = await d.request('GET', '/api/v1/status', { auth: false, headers: { authorization: 'Bearer nope' } });
    expect(bad.status).to.equal(401);
  });

  it('stages a license with a code-by-code diff, then activates it into Licensed', async () => {
    const text = d.license({ edition: 'Enterprise', quantities: { users: 501, 'devices.cisco': 500, 'devices.unify': 500 }, perUser: { clientbundle: 500, vap: 500 } });
    const staged = await d.request('POST', '/api/v1/license/stage', { raw: text });
    expect(staged.status).to.equal(201);
    const users = staged.json.changes.find((c: any) => c.code === 'users');
    expect(users).to.include({ old: 5, new: 501, used: 0, toRemove: 0 });
    expect((await d.status()).mode, 'staging changes nothing').to.equal('entry');

    const act = await d.request('POST', '/api/v1/license/activate', { body: { stageId: staged.json.stageId } });
    expect(act.status).to.equal(200);
    const s = await d.status();
    expect(s.mode).to.equal('licensed');
    expect(s.edition).to.equal('Enterprise');
    expect(s.operator.company).to.equal('Musterfirma GmbH');
    expect(s.codes.find((c: any) => c.code === 'vap').total).to.equal(500);
  });

  it('shows the license and mode through pbxctl status --json', async () => {
    const r = await d.ctl(['status', '--json']);
    expect(r.code).to.equal(0);
    const s = JSON.parse(r.stdout);
    expect(s.mode).to.equal('licensed');
    expect(s.systemId).to.equal(d.systemId);
  });
});
