import { expect } from 'chai';
import { TestDaemon } from './support/daemon.js';
import { addUser, assign, ciscoBoot, device, devices, events, prov, sipPassword, used } from './support/provisioning.js';

const A = '00562B0436A1';
const B = '00562B0436B2';
const C = '00562B0436C3';

describe('provisioning: Cisco enterprise phones and their support licenses', function () {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    for (const u of ['anna', 'bernd', 'clara']) await addUser(d, u, u[0]!.toUpperCase() + u.slice(1), 'Muster');
  });
  after(async () => d.dispose());

  it('announces its three provisioning listeners in the ready line', () => {
    expect(d.listeners).to.have.keys('api', 'control', 'provisioning_http', 'provisioning_https', 'wpi');
  });

  it('records an unknown phone as unassigned and gives it no configuration', async () => {
    const r = await prov(d, `/SEP${A}.cnf.xml`);
    expect(r.status).to.equal(404);
    expect(r.headers['x-pbxd-refusal']).to.equal('PROV_UNKNOWN_DEVICE');
    const dev = await device(d, A);
    expect(dev).to.include({ vendor: 'cisco', licenseState: 'unassigned', userName: null });
    expect((await events(d)).some((e) => e.mac === A.toLowerCase() && e.outcome === 'unknown')).to.equal(true);
  });

  it('refuses a new phone in Entry mode with an HTTP refusal, marks it waiting and says so', async () => {
    await assign(d, A, 'anna');
    const r = await prov(d, `/SEP${A}.cnf.xml`);
    expect(r.status).to.equal(403);
    expect(r.headers['x-pbxd-refusal']).to.equal('PROV_LICENSE_REQUIRED');
    expect(r.text).to.not.include(await sipPassword(d, A));
    const dev = await device(d, A);
    expect(dev.licenseState).to.equal('waiting');
    expect(dev.waitingSince).to.be.a('string');
    expect((await events(d)).find((e) => e.mac === A.toLowerCase() && e.outcome === 'refused_license')).to.be.an('object');
  });

  it('serves the configuration once licensed; a whole boot sequence takes one license', async () => {
    await d.installLicense({ quantities: { users: 25, 'devices.cisco': 1, 'devices.unify': 1 } });
    const boot = await ciscoBoot(d, A);
    expect(boot.map((r) => r.status)).to.deep.equal([404, 404, 404, 404, 200, 200, 200]);
    const cnf = boot[4]!.text;
    expect(cnf).to.include('<device>').and.include('<authPassword>' + (await sipPassword(d, A)) + '</authPassword>');
    expect(cnf).to.include('<displayName>Anna Muster</displayName>');
    await ciscoBoot(d, A);
    expect(used(await d.status(), 'devices.cisco')).to.deep.equal({ used: 1, total: 1 });
    expect((await device(d, A)).licenseState).to.equal('licensed');
  });

  it('refuses a second phone when the license is used up; a release lets it in on its next request', async () => {
    await prov(d, `/SEP${B}.cnf.xml`);
    await assign(d, B, 'bernd');
    const refused = await prov(d, `/SEP${B}.cnf.xml`);
    expect(refused.status).to.equal(403);
    expect(refused.text).to.not.include(await sipPassword(d, B));
    expect((await device(d, B)).licenseState).to.equal('waiting');

    const rel = await d.ctl(['devices', 'release', A]);
    expect(rel.code, rel.stderr).to.equal(0);
    const served = await prov(d, `/SEP${B}.cnf.xml`);
    expect(served.status).to.equal(200);
    expect(served.text).to.include(await sipPassword(d, B));
    const gone = await prov(d, `/SEP${A}.cnf.xml`);
    expect(gone.status, 'released phone gets nothing').to.equal(404);
    expect(gone.headers['x-pbxd-refusal']).to.equal('PROV_UNASSIGNED');
  });

  it('gives waiting phones licenses in the order they started waiting', async () => {
    await assign(d, A, 'anna');
    expect((await prov(d, `/SEP${A}.cnf.xml`)).status).to.equal(403); // A waits first
    await prov(d, `/SEP${C}.cnf.xml`);
    await assign(d, C, 'clara');
    expect((await prov(d, `/SEP${C}.cnf.xml`)).status).to.equal(403); // then C
    await d.request('POST', `/api/v1/devices/${B}/release`);
    expect((await prov(d, `/SEP${C}.cnf.xml`)).status, 'C may not jump the queue').to.equal(403);
    expect((await prov(d, `/SEP${A}.cnf.xml`)).status).to.equal(200);
    expect((await device(d, C)).licenseState).to.equal('waiting');
  });

  it('serves a waiting phone after a larger license is installed', async () => {
    await d.installLicense({ quantities: { users: 25, 'devices.cisco': 2, 'devices.unify': 1 } });
    expect((await prov(d, `/SEP${C}.cnf.xml`)).status).to.equal(200);
    expect(used(await d.status(), 'devices.cisco')).to.deep.equal({ used: 2, total: 2 });
  });

  it('refuses a license downgrade below the licensed phones, listing them', async () => {
    const r = await d.request('POST', '/api/v1/license', { raw: d.license({ quantities: { users: 25, 'devices.cisco': 1 } }) });
    expect(r.status).to.equal(409);
    const over = r.json.error.details.codes.find((c: any) => c.code === 'devices.cisco');
    expect(over.holders.map((h: any) => h.id).sort()).to.deep.equal([A, C].map((m) => m.toLowerCase()).sort());
  });

  it('never serves a blocked phone, and frees its license', async () => {
    const b = await d.ctl(['devices', 'block', C]);
    expect(b.code, b.stderr).to.equal(0);
    const r = await prov(d, `/SEP${C}.cnf.xml`);
    expect(r.status).to.equal(403);
    expect(r.headers['x-pbxd-refusal']).to.equal('PROV_BLOCKED');
    expect(r.text).to.not.include(await sipPassword(d, C));
    expect(used(await d.status(), 'devices.cisco').used).to.equal(1);
    const list = await d.ctl(['devices', 'list', '--json']);
    expect(JSON.parse(list.stdout).devices.find((x: any) => x.mac === C.toLowerCase()).licenseState).to.equal('blocked');
  });

  it('keeps a licensed phone served across a restart, even when the license falls to Entry', async () => {
    d = await d.restart();
    expect((await prov(d, `/SEP${A}.cnf.xml`)).status).to.equal(200);
    // one year and a half later: expired, grace over → Entry; the phone keeps its license
    await d.setClock(new Date(Date.now() + 550 * 24 * 3600_000));
    expect((await d.status()).mode).to.equal('entry');
    expect((await prov(d, `/SEP${A}.cnf.xml`)).status).to.equal(200);
    await d.request('POST', `/api/v1/devices/${C}/unblock`);
    expect((await prov(d, `/SEP${C}.cnf.xml`)).status, 'no new license in Entry').to.equal(403);
  });

  it('never returns the SIP password through the admin API, nor logs it', async () => {
    const secret = await sipPassword(d, A);
    expect(JSON.stringify(await devices(d))).to.not.include(secret);
    expect(d.output.join('\n')).to.not.include(secret);
  });

  it('counts devices by state and provisioning requests in /metrics', async () => {
    const text = await (await fetch(`${d.apiUrl}/metrics`)).text();
    expect(text).to.match(/^pbxd_devices\{state="licensed"\} 1$/m);
    expect(text).to.match(/^pbxd_devices\{state="waiting"\} 1$/m);
    expect(text).to.match(/^pbxd_provisioning_requests_total\{vendor="cisco",outcome="served"\} [1-9]/m);
  });
});
