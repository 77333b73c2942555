import { expect } from 'chai';
import { TestDaemon } from './support/daemon.js';
import { queryDb } from './support/reliability.js';

const DAY = 86400_000;
const codesOf = (s: any) => Object.fromEntries(s.codes.map((c: any) => [c.code, c]));

describe('users, seats and per-user licenses', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  beforeEach(async () => {
    d = await TestDaemon.start();
  });
  afterEach(async () => d.dispose());

  const register = (userName: string, extra: Record<string, unknown> = {}) => d.request('POST', '/api/v1/users', { body: { userName, firstName: 'F', lastName: userName, ...extra } });

  it('registers users up to the seat limit and refuses the next with the count; the supervisor takes no seat', async () => {
    const list = await d.request('GET', '/api/v1/users');
    expect(list.json.users.map((u: any) => u.userName)).to.deep.equal(['supervisor']);
    for (let i = 1; i <= 5; i++) expect((await register(`user${i}`)).status).to.equal(201);
    const refused = await register('user6');
    expect(refused.status).to.equal(409);
    expect(refused.json.error.code).to.equal('SEATS_EXHAUSTED');
    expect(refused.json.error.message).to.equal('5 of 5 user seats in use.');
    expect(refused.json.error.text.de).to.equal('5 von 5 Benutzerlizenzen belegt.');
    expect(codesOf(await d.status()).users).to.include({ used: 5, total: 5 });

    expect((await d.request('DELETE', '/api/v1/users/user3')).status).to.equal(200);
    expect((await register('user6')).status, 'a deleted user frees its seat').to.equal(201);
    expect((await d.request('DELETE', '/api/v1/users/supervisor')).json.error.code).to.equal('USER_BUILTIN');
  });

  it('lets exactly 10 of 1,000 concurrent registrations through when 10 seats are free', async () => {
    await d.installLicense({ quantities: { users: 10, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: 10 } });
    const token = await d.adminToken();
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        fetch(`${d.apiUrl}/api/v1/users`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ userName: `race${i}` }) }).then((r) => r.status),
      ),
    );
    expect(results.filter((s) => s === 201)).to.have.length(10);
    expect(results.filter((s) => s === 409)).to.have.length(990);
    const list = await d.request('GET', '/api/v1/users?status=active&limit=2000');
    expect(list.json.total).to.equal(11); // 10 + supervisor
  });

  it('lists long user lists whole and in order, page by page', async () => {
    await d.installLicense({ quantities: { users: 1300, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: {} });
    const names = Array.from({ length: 1200 }, (_, i) => `list${String(i).padStart(4, '0')}`);
    expect((await d.request('POST', '/api/v1/users/import', { body: { users: names.map((userName) => ({ userName })) } })).json.created).to.have.length(1200);
    const listed: string[] = [];
    for (let offset = 0; offset < 1201; offset += 500) {
      const page = (await d.request('GET', `/api/v1/users?limit=500&offset=${offset}`)).json;
      expect(page).to.include({ total: 1201, limit: 500, offset });
      listed.push(...page.users.map((u: any) => u.userName));
    }
    expect(listed).to.deep.equal(['supervisor', ...names]);
    const slice = await d.request('GET', '/api/v1/users?limit=1100&offset=51');
    expect(slice.json.limit, 'a page is at most 500 rows').to.equal(500);
    expect(slice.json.users.map((u: any) => u.userName)).to.deep.equal(names.slice(50, 550));
  });

  it('keeps users beyond the free seats as pending on import, is idempotent, and approves all or none', async () => {
    await d.installLicense({ quantities: { users: 3, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: {} });
    const csv = 'sAMAccountName,givenName,sn,company,ipPhone\nanna,Anna,Alt,,101\nbernd,Bernd,Bau,,102\n"carla","Carla","Cruz, jr.",,103\ndora,Dora,Dorn,,104\nemil,Emil,Eck,,105\n';
    const first = await d.request('POST', '/api/v1/users/import', { raw: csv, contentType: 'text/csv' });
    expect(first.status).to.equal(200);
    expect(first.json.created).to.deep.equal(['anna', 'bernd', 'carla']);
    expect(first.json.pending).to.deep.equal(['dora', 'emil']);
    const again = await d.request('POST', '/api/v1/users/import', { raw: csv, contentType: 'text/csv' });
    expect(again.json).to.include({ unchanged: 5 });
    expect(again.json.created).to.be.empty;
    expect((await d.request('GET', '/api/v1/users?q=carla')).json.users[0].lastName).to.equal('Cruz, jr.');

    const tooMany = await d.request('POST', '/api/v1/users/approve', { body: { userNames: ['dora', 'emil'] } });
    expect(tooMany.status).to.equal(409);
    expect(tooMany.json.error).to.include({ code: 'SEATS_APPROVAL_EXCEEDS' });
    expect(tooMany.json.error.details).to.deep.equal({ requested: 2, fit: 0 });

    await d.installLicense({ quantities: { users: 4, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: {} });
    const partial = await d.request('POST', '/api/v1/users/approve', { body: { userNames: ['dora', 'emil'] } });
    expect(partial.json.error.details).to.deep.equal({ requested: 2, fit: 1 });
    expect((await d.request('GET', '/api/v1/users?status=pending')).json.total, 'a refused approval approves none').to.equal(2);
    const fit = await d.request('POST', '/api/v1/users/approve', { body: { all: true } });
    expect(fit.json).to.deep.equal({ approved: ['dora'], stillPending: 1 });

    const r = await d.ctl(['users', 'list', '--pending', '--json']);
    expect(JSON.parse(r.stdout).users.map((u: any) => u.userName)).to.deep.equal(['emil']);
  });

  it('splits seats into tenant pools that cannot shrink below their users or exceed the license', async () => {
    await d.installLicense({ quantities: { users: 10, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: {} });
    expect((await d.request('PUT', '/api/v1/tenants/Acme', { body: { seats: 2 } })).status).to.equal(200);
    expect((await d.request('PUT', '/api/v1/tenants/Globex', { body: { seats: 9 } })).json.error).to.deep.include({ code: 'POOLS_EXCEED_LICENSE', details: { sum: 11, total: 10 } });
    expect((await register('a1', { tenant: 'Acme' })).status).to.equal(201);
    expect((await register('a2', { tenant: 'Acme' })).status).to.equal(201);
    const full = await register('a3', { tenant: 'Acme' });
    expect(full.status).to.equal(409);
    expect(full.json.error.message).to.equal('2 of 2 seats of "Acme" in use.');
    expect((await d.request('PUT', '/api/v1/tenants/Acme', { body: { seats: 1 } })).json.error.code).to.equal('POOL_BELOW_USERS');
    // Unpooled users get what the pools leave: 10 - 2 = 8.
    for (let i = 0; i < 8; i++) expect((await register(`free${i}`)).status).to.equal(201);
    expect((await register('free8')).json.error.code).to.equal('SEATS_EXHAUSTED');
    const t = await d.request('GET', '/api/v1/tenants');
    expect(t.json.tenants).to.deep.equal([{ name: 'Acme', seats: 2, used: 2, pending: 0 }]);
  });

  it('keeps the seats in use true through registration, import, approval, tenant moves and deletion', async () => {
    await d.installLicense({ quantities: { users: 6, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: {} });
    await d.request('PUT', '/api/v1/tenants/Acme', { body: { seats: 3 } });
    await d.request('PUT', '/api/v1/tenants/Globex', { body: { seats: 1 } });
    expect((await register('a1', { tenant: 'Acme' })).status).to.equal(201);
    expect((await register('n1')).status).to.equal(201);
    await d.request('POST', '/api/v1/users/import', { body: { users: [{ userName: 'a2', tenant: 'Acme' }, { userName: 'g1', tenant: 'Globex' }, { userName: 'g2', tenant: 'Globex' }, { userName: 'n2' }, { userName: 'n3' }] } });
    expect((await d.request('PATCH', '/api/v1/users/a1', { body: { tenant: 'Globex' } })).json.error.code, 'Globex is full').to.equal('TENANT_SEATS_EXHAUSTED');
    expect((await d.request('PATCH', '/api/v1/users/n1', { body: { tenant: 'Acme' } })).status).to.equal(200);
    expect((await d.request('DELETE', '/api/v1/users/g1')).status).to.equal(200);
    expect((await d.request('POST', '/api/v1/users/approve', { body: { all: true } })).json.approved).to.deep.equal(['g2', 'n3']);

    // What the daemon shows must be what the database holds, counted row by row.
    const counted = await queryDb<{ tenant: string | null; n: number }>(d.dataDir, "SELECT t.name AS tenant, COUNT(*) AS n FROM users u LEFT JOIN tenants t ON t.id = u.tenant_id WHERE u.status = 'active' AND u.builtin = 0 GROUP BY t.name ORDER BY t.name");
    expect(counted).to.deep.equal([{ tenant: null, n: 2 }, { tenant: 'Acme', n: 3 }, { tenant: 'Globex', n: 1 }]);
    expect(codesOf(await d.status()).users).to.include({ used: 6, total: 6 });
    expect((await d.request('GET', '/api/v1/tenants')).json.tenants).to.deep.equal([
      { name: 'Acme', seats: 3, used: 3, pending: 0 },
      { name: 'Globex', seats: 1, used: 1, pending: 0 },
    ]);
    expect((await register('n9')).json.error.message).to.equal('6 of 6 user seats in use.');
  });

  it('applies a per-user license batch all or nothing and names each code it would exceed', async () => {
    await d.installLicense({ quantities: { users: 10, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: 2, vap: 1, voicemail: 5 } });
    for (const u of ['gerd', 'sandra', 'tom']) await register(u);
    const ok = await d.request('POST', '/api/v1/user-licenses', { body: { changes: [{ userName: 'gerd', code: 'clientbundle', assigned: true }, { userName: 'supervisor', code: 'vap', assigned: true }] } });
    expect(ok.status).to.equal(200);
    expect(ok.json.applied).to.equal(2);

    const over = await d.request('POST', '/api/v1/user-licenses', {
      body: { changes: ['sandra', 'tom'].flatMap((u) => [{ userName: u, code: 'clientbundle', assigned: true }, { userName: u, code: 'vap', assigned: true }, { userName: u, code: 'voicemail', assigned: true }]) },
    });
    expect(over.status).to.equal(409);
    expect(over.json.error.code).to.equal('USERLIC_QUOTA_EXCEEDED');
    expect(over.json.error.details.codes).to.deep.equal([
      { code: 'clientbundle', total: 2, wouldUse: 3, exceedsBy: 1 },
      { code: 'vap', total: 1, wouldUse: 3, exceedsBy: 2 },
    ]);
    const table = await d.request('GET', '/api/v1/user-licenses');
    const byCode = Object.fromEntries(table.json.codes.map((c: any) => [c.code, c]));
    expect(byCode.voicemail.used, 'nothing of a refused batch is applied').to.equal(0);
    expect(byCode.clientbundle).to.include({ used: 1, total: 2 });
    expect(table.json.users.find((u: any) => u.userName === 'supervisor').licenses).to.deep.equal({ clientbundle: false, vap: true, voicemail: false });

    const viaCli = await d.ctl(['licenses', 'assign', 'tom', 'voicemail', '--json']);
    expect(viaCli.code).to.equal(0);
    const unknown = await d.request('POST', '/api/v1/user-licenses', { body: { changes: [{ userName: 'tom', code: 'fax', assigned: true }] } });
    expect(unknown.json.error.code).to.equal('USERLIC_UNKNOWN_CODE');
  });

  it('refuses a downgrade below what is in use, naming holders and a plan, then activates after removals or with the plan', async () => {
    await d.installLicense({ quantities: { users: 10, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: 5, vap: 2 } });
    for (const u of ['u1', 'u2', 'u3', 'u4']) await register(u);
    await d.request('POST', '/api/v1/user-licenses', { body: { changes: ['u1', 'u2', 'u3'].map((u) => ({ userName: u, code: 'clientbundle', assigned: true })) } });

    const staged = await d.request('POST', '/api/v1/license/stage', { raw: d.license({ quantities: { users: 2, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: 1 } }) });
    expect(staged.status).to.equal(201);
    const refused = await d.request('POST', '/api/v1/license/activate', { body: { stageId: staged.json.stageId } });
    expect(refused.status).to.equal(409);
    expect(refused.json.error.code).to.equal('LIC_OVERUSED');
    const report = Object.fromEntries(refused.json.error.details.codes.map((c: any) => [c.code, c]));
    expect(report.users).to.include({ used: 4, newTotal: 2, toRemove: 2 });
    expect(report.users.holders.map((h: any) => h.id)).to.have.members(['u1', 'u2', 'u3', 'u4']);
    expect(report.clientbundle).to.include({ used: 3, newTotal: 1, toRemove: 2 });
    expect(report.clientbundle.holders.map((h: any) => h.id)).to.have.members(['u1', 'u2', 'u3']);
    expect(refused.json.error.details.plan).to.have.length(4);
    expect((await d.status()).codes.find((c: any) => c.code === 'users').total, 'the license in force is unchanged').to.equal(10);

    // Remove by hand what the report asks for, then activate.
    await d.request('DELETE', '/api/v1/users/u4');
    await d.request('DELETE', '/api/v1/users/u3');
    await d.request('POST', '/api/v1/user-licenses', { body: { changes: [{ userName: 'u2', code: 'clientbundle', assigned: false }] } });
    const ok = await d.request('POST', '/api/v1/license/activate', { body: { stageId: staged.json.stageId } });
    expect(ok.status).to.equal(200);
    expect(codesOf(await d.status()).users).to.include({ used: 2, total: 2 });

    // A second downgrade applied with its proposed plan, in one step.
    const staged2 = await d.request('POST', '/api/v1/license/stage', { raw: d.license({ quantities: { users: 1, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: 0 } }) });
    expect(staged2.json.overused.map((c: any) => c.code)).to.have.members(['users', 'clientbundle']);
    const withPlan = await d.request('POST', '/api/v1/license/activate', { body: { stageId: staged2.json.stageId, plan: staged2.json.plan } });
    expect(withPlan.status, withPlan.text).to.equal(200);
    const s = codesOf(await d.status());
    expect(s.users).to.include({ used: 1, total: 1 });
    expect(s.clientbundle).to.include({ used: 0, total: 0 });
    expect((await d.request('GET', '/api/v1/users?status=pending')).json.total, 'a released seat keeps the user, as pending').to.equal(1);
  });

  it('walks a downgrade through pbxctl: stage shows removals and plan, activate refuses, --apply-plan activates', async () => {
    await d.installLicense({ quantities: { users: 10, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { vap: 2 } });
    for (const u of ['op1', 'op2']) await register(u);
    await d.ctl(['licenses', 'assign', 'op1', 'vap']);
    await d.ctl(['licenses', 'assign', 'op2', 'vap']);
    const { writeFileSync } = await import('node:fs');
    const file = `${d.dataDir}/smaller.lic`;
    writeFileSync(file, d.license({ quantities: { users: 10, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { vap: 1 } }));
    const staged = await d.ctl(['license', 'stage', file]);
    expect(staged.stdout).to.contain('vap: 2 in use, 1 licensed: remove 1').and.contain('release vap from user op');
    const refused = await d.ctl(['license', 'activate']);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.contain('LIC_OVERUSED');
    const ok = await d.ctl(['license', 'activate', '--apply-plan']);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(codesOf(await d.status()).vap).to.include({ used: 1, total: 1 });
  });

  it('suspends per-user licenses beyond the allowance when falling into Entry, keeps every user, and restores them with a new license', async () => {
    const now = Date.now();
    await d.installLicense({ expiresAt: new Date(now + 10 * DAY).toISOString().replace(/\.\d+Z/, 'Z'), quantities: { users: 10, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: 10 } });
    for (const u of ['a', 'b', 'c', 'e', 'f', 'g', 'h']) await register(u);
    await d.request('POST', '/api/v1/user-licenses', { body: { changes: ['a', 'b', 'c'].map((u) => ({ userName: u, code: 'clientbundle', assigned: true })) } });

    await d.setClock(new Date(now + 12 * DAY));
    expect((await d.status()).mode).to.equal('grace');
    expect((await d.status()).suspendedLicenses).to.equal(0);

    await d.setClock(new Date(now + 30 * DAY));
    let s = await d.status();
    expect(s.mode).to.equal('entry');
    expect(s.reason.code).to.equal('MODE_LICENSE_EXPIRED');
    await waitFor(async () => (await d.status()).suspendedLicenses === 3);
    expect((await d.request('GET', '/api/v1/users?status=active')).json.total, 'no user is deleted').to.equal(8);
    expect((await register('late')).json.error.message).to.equal('7 of 5 user seats in use.');

    await d.installLicense({ quantities: { users: 10, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: 2 } });
    await waitFor(async () => (await d.status()).suspendedLicenses === 1);
    s = await d.status();
    expect(codesOf(s).clientbundle).to.include({ used: 2, total: 2 });
    const table = (await d.request('GET', '/api/v1/user-licenses')).json;
    const holders = table.users.filter((u: any) => u.licenses.clientbundle).map((u: any) => u.userName);
    expect(holders, 'the earliest assigned come back first').to.have.members(['a', 'b']);
  });

  it('writes every change to the audit log with who and what', async () => {
    await d.installLicense({ quantities: { users: 10, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: 5 } });
    await register('x1');
    await d.request('POST', '/api/v1/users/import', { body: { users: [{ userName: 'x2' }] } });
    await d.request('POST', '/api/v1/user-licenses', { body: { changes: [{ userName: 'x1', code: 'clientbundle', assigned: true }] } });
    await d.request('PUT', '/api/v1/tenants/Acme', { body: { seats: 1 } });
    await d.request('DELETE', '/api/v1/users/x2');
    const actions = (await d.request('GET', '/api/v1/audit')).json.entries.map((e: any) => `${e.actor}:${e.action}:${e.subject}`);
    expect(actions).to.include.members(['admin:user.register:x1', 'admin:user.import:1 records', 'admin:userlicense.batch:1 changes', 'admin:tenant.pool:Acme', 'admin:user.delete:x2', 'admin:license.activate:' + (await d.status()).licenseId]);
    expect((await d.request('GET', '/api/v1/audit/verify')).json).to.deep.include({ ok: true });
  });
});

async function waitFor(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached in time');
}
