import { expect } from 'chai';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { TestDaemon } from './support/daemon.js';
import { addDevice, addUser, prov } from './support/provisioning.js';
import { VENDOR_MODULES } from '../provisioning/vendors/index.js';
import { lineValues, type ProvisioningSettings } from '../provisioning/vendors/vendor.js';
import { zoneRule } from '../provisioning/time-zone.js';
import type { DeviceRecord } from '../daemon/core/devices.js';

const SETTINGS: ProvisioningSettings = { registrar: 'pbx.example.test', sipPort: 5062, transport: 'udp', zone: zoneRule('Europe/Vienna'), ntpServer: 'ntp.example.test', language: 'de', baseUrl: '' };

/** The full render of a module (by id), as the templates must reproduce it. */
const renderDevice = (d: DeviceRecord, s: ProvisioningSettings, id: string) => VENDOR_MODULES.find((m) => m.id === id)!.render!(lineValues(d), s);

/** One phone per vendor module with a configuration file, with the request its firmware makes. */
const PHONES: Array<{ format: string; vendor: string; model: string; mac: (i: number) => string; request: (mac: string) => { path: string; ua?: string } }> = [
  { format: 'cisco-enterprise', vendor: 'cisco', model: 'CP-8845', mac: (i) => `00562B0000A${i}`, request: (m) => ({ path: `/SEP${m}.cnf.xml` }) },
  { format: 'cisco-mpp', vendor: 'cisco', model: 'CP-8841-3PCC', mac: (i) => `00562c0000b${i}`, request: (m) => ({ path: `/${m}.xml`, ua: `Cisco-CP-8841-3PCC/11.3.7_1234 (${m})` }) },
  { format: 'gigaset', vendor: 'gigaset', model: 'N870 IP PRO', mac: (i) => `7C2F800000C${i}`, request: (m) => ({ path: `/${m.toLowerCase()}.xml`, ua: `Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;${m}` }) },
  { format: 'yealink', vendor: 'yealink', model: 'W70B', mac: (i) => `805ec00000d${i}`, request: (m) => ({ path: `/${m}.cfg`, ua: `Yealink W70B 146.85.0.20 ${m.match(/../g)!.join(':')}` }) },
  { format: 'snom', vendor: 'snom', model: 'M900', mac: (i) => `0004130000E${i}`, request: (m) => ({ path: `/${m}.xml`, ua: 'Snom-M900/06.50.0001' }) },
];

/** Users whose names go into the files as they are, need escaping, or are not ASCII. */
const USERS = [
  { userName: 'anna', first: 'Anna', last: 'Berg', line: 1 },
  { userName: 'joerg', first: 'Jörg', last: 'Müller & Söhne "K<1>" O\'Neil', line: 2 },
  { userName: 'zoe', first: 'Zoë', last: 'Ødegård', line: 3 },
];

async function deviceRow(d: TestDaemon, mac: string): Promise<DeviceRecord> {
  const db = new sqlite3.Database(join(d.dataDir, 'pbxd.db'), sqlite3.OPEN_READONLY);
  const r = await new Promise<any>((resolve, reject) => db.get('SELECT * FROM devices WHERE mac = ?', [mac.toLowerCase()], (e, row) => (e ? reject(e) : resolve(row))));
  await new Promise<void>((done) => db.close(() => done()));
  return { ...r, line: r.line, displayName: r.display_name, sipUser: r.sip_user, sipPassword: r.sip_password } as DeviceRecord;
}

describe('provisioning: configurations from templates', function () {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start({
      config: { provisioning: { host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0, sipRegistrar: SETTINGS.registrar, sipPort: SETTINGS.sipPort, timeZone: SETTINGS.zone.name, ntpServer: SETTINGS.ntpServer, language: SETTINGS.language } },
    });
    await d.installLicense({ quantities: { users: 25, 'devices.cisco': 6 } });
    for (const u of USERS) await addUser(d, u.userName, u.first, u.last, u.userName === 'joerg' ? '4711' : null);
    for (const p of PHONES)
      for (const [i, u] of USERS.entries()) {
        await addDevice(d, p.mac(i), p.vendor, p.model);
        const r = await d.request('POST', `/api/v1/devices/${p.mac(i)}/assign`, { body: { userName: u.userName, line: u.line } });
        expect(r.status, r.text).to.equal(200);
      }
  });
  after(async () => d.dispose());

  for (const p of PHONES) {
    it(`serves ${p.format} files byte for byte as the full XML/text render, names escaped, Content-Length in bytes`, async () => {
      for (const [i, u] of USERS.entries()) {
        const mac = p.mac(i);
        const { path, ua } = p.request(mac);
        const r = await prov(d, path, ua ? { 'user-agent': ua } : {});
        expect(r.status, r.text).to.equal(200);
        const expected = renderDevice(await deviceRow(d, mac), SETTINGS, p.format);
        expect(r.text, `${p.format} for ${u.userName}`).to.equal(expected.body);
        expect(Number(r.headers['content-length'])).to.equal(Buffer.byteLength(r.text));
        if (u.userName === 'joerg' && p.format !== 'yealink') expect(r.text).to.include('Müller &amp; Söhne');
      }
    });
  }

  it('serves the new name at once after the user is renamed, and nothing once the phone is released', async () => {
    const mac = PHONES[2]!.mac(0);
    const { path, ua } = PHONES[2]!.request(mac);
    const r = await d.request('PATCH', '/api/v1/users/anna', { body: { lastName: 'Berg-Öz & Co' } });
    expect(r.status, r.text).to.equal(200);
    let served = '';
    for (let i = 0; i < 50 && !served.includes('Berg-Öz &amp; Co'); i++) {
      await new Promise((res) => setTimeout(res, 50));
      served = (await prov(d, path, { 'user-agent': ua! })).text;
    }
    expect(served).to.equal(renderDevice(await deviceRow(d, mac), SETTINGS, 'gigaset').body).and.include('Anna Berg-Öz &amp; Co');
    expect((await d.request('POST', `/api/v1/devices/${mac}/release`)).status).to.equal(200);
    const after = await prov(d, path, { 'user-agent': ua! });
    expect(after.status).to.equal(404);
    expect(after.text).to.not.include('SipAccount');
  });
});
