import { expect } from 'chai';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { TestDaemon } from './support/daemon.js';
import { addDevice, addUser, assign, device, prov, sipPassword } from './support/provisioning.js';

const GIGASET = '7C2F80E0D605';
const YEALINK = '805ec0123456';
const SNOM = '000413AABBCC';
const MPP = '00562b043615';

const DECT = [
  { name: 'Gigaset N870 IP PRO', mac: GIGASET, path: `/${GIGASET.toLowerCase()}.xml`, ua: `Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;${GIGASET}`, check: (t: string, pw: string) => expect(t).to.include('<provisioning').and.include(`name="SipAccount.00001.AuthPassword" value="${pw}"`) },
  { name: 'Yealink W70B', mac: YEALINK, path: `/${YEALINK}.cfg`, ua: 'Yealink W70B 146.85.0.20 80:5e:c0:12:34:56', check: (t: string, pw: string) => expect(t).to.match(/^#!version:1\.0\.0\.1\n/).and.include(`account.1.password = ${pw}\n`) },
  { name: 'Snom M900', mac: SNOM, path: `/${SNOM}.xml`, ua: `Mozilla/4.0 (compatible; Snom M900 05.20.0001 ${SNOM.toLowerCase()})`, check: (t: string, pw: string) => expect(t).to.include('<settings>').and.include('<phone-settings>').and.include(`<user_pass idx="1">${pw}</user_pass>`) },
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

  it('lets an admin add a device by hand before it ever calls', async () => {
    await addDevice(d, '00:04:13:11:22:33', 'snom', 'M700');
    const dev = await device(d, '000413112233');
    expect(dev).to.include({ vendor: 'snom', model: 'M700', licenseState: 'unassigned', source: 'admin' });
  });
});
