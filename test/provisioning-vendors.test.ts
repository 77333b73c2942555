import { expect } from 'chai';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { TestDaemon } from './support/daemon.js';
import { addDevice, addUser, assign, device, events, prov, sipPassword, unifyItems, used, wpi, workpoint } from './support/provisioning.js';

const GIGASET = '7C2F80E0D605';
const YEALINK = '805ec0123456';
const SNOM = '000413AABBCC';
const MPP = '00562b043615';
const UNIFY = '001AE8A1B2C3';
const UNIFY2 = '001AE8A1B2C4';

const DECT = [
  { name: 'Gigaset N870 IP PRO', mac: GIGASET, path: `/${GIGASET.toLowerCase()}.xml`, ua: `Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;${GIGASET}`, check: (t: string, pw: string) => expect(t).to.include('<provisioning').and.include(`name="SipAccount.00001.AuthPassword" value="${pw}"`) },
  { name: 'Yealink W70B', mac: YEALINK, path: `/${YEALINK}.cfg`, ua: 'Yealink W70B 146.85.0.20 80:5e:c0:12:34:56', check: (t: string, pw: string) => expect(t).to.match(/^#!version:1\.0\.0\.1\n/).and.include(`account.1.password = ${pw}\n`) },
  { name: 'Snom M900', mac: SNOM, path: `/${SNOM}.xml`, ua: 'Snom-M900/06.50.0001', check: (t: string, pw: string) => expect(t).to.include('<settings>').and.include(`<password>${pw}</password>`) },
];

describe('provisioning: every vendor in its own format', function () {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start({ config: { provisioning: { host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0, sipRegistrar: 'pbx.example.test', timeZone: 'Europe/Berlin' } } });
    for (const u of ['dora', 'emil', 'fritz']) await addUser(d, u, u, 'Test');
  });
  after(async () => d.dispose());

  for (const [i, v] of DECT.entries()) {
    it(`serves ${v.name} its configuration in Entry mode (DECT needs no license)`, async () => {
      const first = await prov(d, v.path, { 'user-agent': v.ua });
      expect(first.status).to.equal(404);
      const rec = await device(d, v.mac);
      expect(rec.vendor).to.equal(v.name.split(' ')[0]!.toLowerCase());
      await assign(d, v.mac, ['dora', 'emil', 'fritz'][i]!);
      expect((await device(d, v.mac)).licenseState).to.equal('not_required');
      const r = await prov(d, v.path, { 'user-agent': v.ua });
      expect(r.status, r.text).to.equal(200);
      v.check(r.text, await sipPassword(d, v.mac));
      expect(r.text).to.include('pbx.example.test');
      if (r.headers['content-type']!.includes('xml')) expect(XMLValidator.validate(r.text)).to.equal(true);
    });
  }

  it('matches MACs case-insensitively and in any separator style', async () => {
    const r = await prov(d, `/${GIGASET.toUpperCase()}.xml`, { 'user-agent': `Gigaset N870 IP PRO/83.V2.11.0;${GIGASET.toLowerCase()}` });
    expect(r.status).to.equal(200);
    const y = await prov(d, `/${YEALINK.toUpperCase()}.cfg`, { 'user-agent': 'Yealink W70B 146.85.0.20 80:5E:C0:12:34:56' });
    expect(y.status).to.equal(200);
  });

  it('serves the MAC-less Yealink common file without credentials', async () => {
    const r = await prov(d, '/y000000000146.cfg', { 'user-agent': 'Yealink W70B 146.85.0.20 80:5e:c0:12:34:56' });
    expect(r.status).to.equal(200);
    expect(r.text).to.include('local_time.ntp_server1 = pbx.example.test').and.not.include('password');
  });

  it('serves a Cisco MPP (3PCC) phone its flat profile once licensed', async () => {
    const ua = `Cisco-CP-8841-3PCC/11.3.7_1234 (${MPP})`;
    expect((await prov(d, `/${MPP}.xml`, { 'user-agent': ua })).status).to.equal(404);
    await addUser(d, 'gina', 'gina', 'Test');
    await assign(d, MPP, 'gina');
    expect((await prov(d, `/${MPP}.xml`, { 'user-agent': ua })).status, 'Entry mode: no license').to.equal(403);
    await d.installLicense({ quantities: { users: 25, 'devices.cisco': 1, 'devices.unify': 1 } });
    for (const u of ['hans', 'ida']) await addUser(d, u, u, 'Test');
    const r = await prov(d, `/${MPP}.xml`, { 'user-agent': ua });
    expect(r.status).to.equal(200);
    const flat = new XMLParser().parse(r.text)['flat-profile'];
    expect(flat).to.include({ Proxy_1_: 'pbx.example.test:5060', User_ID_1_: 'gina', Password_1_: await sipPassword(d, MPP) });
    expect(await device(d, MPP)).to.include({ model: 'CP-8841-3PCC', firmware: '11.3.7_1234', lastIp: '127.0.0.1' });
    // after a firmware upgrade the table shows the new version
    await prov(d, `/${MPP}.xml`, { 'user-agent': `Cisco-CP-8841-3PCC/12.0.1 (${MPP})` });
    expect((await device(d, MPP)).firmware).to.equal('12.0.1');
  });

  it('walks a Unify phone through start-up → ReadAllItems → WriteItems → CleanUp, echoing each nonce', async () => {
    const start = await wpi(d, workpoint('A1B2C3D4', 'start-up', unifyItems(UNIFY)));
    expect(start.status).to.equal(200);
    expect(start.text).to.include('<DLSMessage').and.include('nonce="A1B2C3D4"').and.include('<Action>CleanUp</Action>');
    expect((await device(d, UNIFY)).licenseState).to.equal('unassigned');
    await assign(d, UNIFY, 'hans');

    const s2 = await wpi(d, workpoint('0F0F0F01', 'start-up', unifyItems(UNIFY)));
    expect(s2.text).to.include('<Action>ReadAllItems</Action>').and.include('nonce="0F0F0F01"');
    const read = await wpi(d, workpoint('0F0F0F02', 'reply-to', { ...unifyItems(UNIFY), e164: '', 'sip-pwd': '' }, ' action="ReadAllItems" status="accepted"'));
    expect(read.status).to.equal(200);
    const msg = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(read.text).DLSMessage.Message;
    expect(msg.nonce).to.equal('0F0F0F02');
    expect(msg.Action).to.equal('WriteItems');
    const items = Object.fromEntries(msg.ItemList.Item.map((i: any) => [i.name, String(i['#text'])]));
    expect(items).to.include({ 'sip-user-id': 'hans', 'sip-pwd': await sipPassword(d, UNIFY), 'reg-addr': 'pbx.example.test' });
    const done = await wpi(d, workpoint('0F0F0F03', 'reply-to', unifyItems(UNIFY), ' action="WriteItems" status="accepted"'));
    expect(done.text).to.include('<Action>CleanUp</Action>').and.include('nonce="0F0F0F03"');
    expect(used(await d.status(), 'devices.unify').used).to.equal(1);
  });

  it('answers a Unify phone without a license with a valid CleanUp (HTTP 200), not an error, and no secret', async () => {
    await wpi(d, workpoint('AA01', 'start-up', unifyItems(UNIFY2)));
    await assign(d, UNIFY2, 'ida');
    const r = await wpi(d, workpoint('AA02', 'start-up', unifyItems(UNIFY2)));
    expect(r.status).to.equal(200);
    expect(XMLValidator.validate(r.text)).to.equal(true);
    expect(r.text).to.include('<Action>CleanUp</Action>').and.include('nonce="AA02"').and.not.include(await sipPassword(d, UNIFY2));
    const reply = await wpi(d, workpoint('AA03', 'reply-to', unifyItems(UNIFY2), ' action="ReadAllItems" status="accepted"'));
    expect(reply.text).to.include('<Action>CleanUp</Action>').and.not.include('sip-pwd');
    expect((await device(d, UNIFY2)).licenseState).to.equal('waiting');
    expect((await events(d)).some((e) => e.mac === UNIFY2.toLowerCase() && e.outcome === 'refused_license')).to.equal(true);
    // Releasing the other Unify phone lets this one in.
    await d.request('POST', `/api/v1/devices/${UNIFY}/release`);
    const ok = await wpi(d, workpoint('AA04', 'start-up', unifyItems(UNIFY2)));
    expect(ok.text).to.include('<Action>ReadAllItems</Action>');
  });

  it('also speaks WPI on the HTTPS port with the appliance certificate', async () => {
    const { phoneRequest, applianceCa } = await import('./support/provisioning.js');
    const body = workpoint('BEEF', 'start-up', unifyItems(UNIFY2));
    const r = await phoneRequest(d.listeners.provisioning_https!, { method: 'POST', path: '/DeploymentService/LoginService', headers: { 'content-type': 'text/xml' }, body, tls: { ca: applianceCa(d) } });
    expect(r.status).to.equal(200);
    expect(r.text).to.include('nonce="BEEF"');
  });

  it('lets an admin add a device by hand before it ever calls', async () => {
    await addDevice(d, '00:04:13:11:22:33', 'snom', 'M700');
    const dev = await device(d, '000413112233');
    expect(dev).to.include({ vendor: 'snom', model: 'M700', licenseState: 'unassigned', source: 'admin' });
  });
});
