import { expect } from 'chai';
import http from 'node:http';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { TestDaemon } from './support/daemon.js';
import { addDevice, addUser, assign, device, prov, sipPassword, siteKey, type PhoneReply } from './support/provisioning.js';

/**
 * What the admin does with the provisioning security: pbxctl and the API
 * (URLs, key rotation, windows, subnet pins, the badge's decisions), what
 * survives a restart, bad input, and a whole site behind one NAT address.
 */
const GIGASET_UA = (mac: string) => `Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;${mac.toUpperCase()}`;

describe('provisioning security: the admin side', function () {
  this.timeout(120_000);
  let d: TestDaemon;
  const keyOf = () => siteKey(d);
  const gigaset = async (mac: string, from: string, key: string | null = null) => prov(d, `${key ? `/${key}` : ''}/${mac}.xml`, { 'user-agent': GIGASET_UA(mac) }, 'GET', from);

  before(async () => {
    d = await TestDaemon.start({ config: { provisioning: { host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0, hostnames: ['localhost'], requireKey: true } } });
    for (const u of ['ada', 'ben', 'nat']) await addUser(d, u, u, 'Test');
  });
  after(async () => d.dispose());

  it('pbxctl shows the URLs with the site key; a rotation changes them and says how long the old key lasts', async () => {
    const key = await keyOf();
    const urls = await d.ctl(['provisioning', 'urls']);
    expect(urls.code, urls.stderr).to.equal(0);
    expect(urls.stdout).to.match(new RegExp(`cisco-mpp\\s+Profile Rule.*https://localhost:\\d+/${key}/\\$MA\\.xml`));
    expect(urls.stdout).to.match(/cisco-enterprise\s+DHCP option 150 \(TFTP server\)\s+localhost/);
    const rotated = await d.ctl(['provisioning', 'key', 'rotate', '--overlap-hours', '2', '--json']);
    expect(rotated.code, rotated.stderr).to.equal(0);
    const json = JSON.parse(rotated.stdout);
    expect(json.urls.find((u: any) => u.module === 'yealink').value).to.not.include(key);
    expect(json.previousKeys).to.have.length(1);
    expect(Date.parse(json.previousKeys[0].expiresAt) - Date.now()).to.be.within(2 * 3600_000 - 120_000, 2 * 3600_000 + 1000);
  });

  it('pins a device to a subnet, refuses a bad subnet with a clear error and changes nothing', async () => {
    const mac = '7c2f80e0f101';
    await addDevice(d, mac, 'gigaset', 'N870 IP PRO');
    await assign(d, mac, 'ada');
    const pw = await sipPassword(d, mac);
    const bad = await d.request('PUT', `/api/v1/devices/${mac}/address`, { body: { subnet: '127.0.0.0/99' } });
    expect(bad.status).to.equal(400);
    expect(bad.json.error.code).to.equal('PROVSEC_SUBNET_INVALID');
    expect((await d.request('GET', `/api/v1/devices/${mac}/lock`)).json.subnet).to.equal(null);
    expect((await d.request('PUT', '/api/v1/devices/00aabbccddee/address', { body: { subnet: '10.0.0.0/8' } })).json.error.code).to.equal('DEV_NOT_FOUND');

    const pin = await d.ctl(['provisioning', 'pin', mac, '127.0.0.0/30']);
    expect(pin.code, pin.stderr).to.equal(0);
    expect(pin.stdout).to.include('pinned to 127.0.0.0/30');
    const key = await keyOf();
    expect((await gigaset(mac, '127.0.0.2', key)).text).to.include(pw);
    expect((await gigaset(mac, '127.0.0.3', key)).text, 'another address inside the subnet').to.include(pw);
    await d.ctl(['provisioning', 'enrolment', 'open', '--minutes', '5']);
    const outside = await gigaset(mac, '127.0.0.9', key);
    expect(outside.status, 'a pin holds even inside a window').to.equal(403);
    expect(outside.text).to.not.include(pw);
    expect((await d.request('GET', '/api/v1/provisioning/alerts')).json.alerts[0]).to.include({ kind: 'outside-subnet', mac, ip: '127.0.0.9' });
    const closed = await d.ctl(['provisioning', 'enrolment', 'close']);
    expect(closed.code, closed.stderr).to.equal(0);
    const badge = (await d.request('GET', '/api/v1/provisioning/locks')).json.pending;
    expect(badge.map((l: any) => [l.mac, l.pendingIp])).to.deep.include([mac, '127.0.0.9']);
    const nothing = await d.request('POST', '/api/v1/devices/7c2f80e0f1ff/address/allow');
    expect(nothing.status).to.equal(404);
  });

  it('keeps the key, the locks and the badges across a restart', async () => {
    const mac = '7c2f80e0f102';
    await addDevice(d, mac, 'gigaset', 'N870 IP PRO');
    await assign(d, mac, 'ben');
    const pw = await sipPassword(d, mac);
    const key = await keyOf();
    expect((await gigaset(mac, '127.0.0.2', key)).text).to.include(pw);
    await d.request('POST', '/api/v1/provisioning/enrolment/close', { body: { mac } });
    expect((await gigaset(mac, '127.0.0.5', key)).status).to.equal(403);
    d = await d.restart();
    expect(await keyOf()).to.equal(key);
    expect((await d.request('GET', `/api/v1/devices/${mac}/lock`)).json).to.include({ ip: '127.0.0.2', pendingIp: '127.0.0.5', enrolUntil: null });
    const refused = await gigaset(mac, '127.0.0.5', key);
    expect(refused.headers['x-pbxd-refusal']).to.equal('PROV_DEVICE_LOCKED');
    expect((await gigaset(mac, '127.0.0.2', key)).text).to.include(pw);
  });

  it('boots 10,000 phones behind one NAT address with the key and the lock on', async () => {
    const N = 10_000;
    const macs = Array.from({ length: N }, (_, i) => `7c2f81${i.toString(16).padStart(6, '0')}`);
    // The table filled straight in the database file (assigning 10,000 phones one by one through the API is not what is tested here).
    await d.stop();
    const db = new sqlite3.Database(join(d.dataDir, 'pbxd.db'));
    await new Promise<void>((resolve, reject) =>
      db.run(
        `INSERT INTO devices (mac, vendor, model, source, created_at, user_name, line, display_name, sip_user, sip_password)
         SELECT value, 'gigaset', 'N870 IP PRO', 'admin', '2026-01-01T00:00:00.000Z', 'nat', 1, 'nat Test', 'nat', 'pw-' || value FROM json_each(?)`,
        [JSON.stringify(macs)], (e) => (e ? reject(e) : resolve())),
    );
    await new Promise<void>((r) => db.close(() => r()));
    d = await d.restart();
    const key = await keyOf();
    const agent = new http.Agent({ keepAlive: false, maxSockets: 50 });
    const [host, port] = d.listeners.provisioning_http!.split(':');
    const get = (mac: string) => new Promise<PhoneReply>((resolve, reject) => {
      const req = http.request({ host, port: Number(port), path: `/${key}/${mac}.xml`, agent, localAddress: '127.0.0.7', headers: { 'user-agent': GIGASET_UA(mac) } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      });
      req.on('error', reject);
      req.end();
    });
    for (let round = 0; round < 2; round++) {
      const statuses = new Map<number, number>();
      let wrong = 0;
      await Promise.all(Array.from({ length: 50 }, async (_, w) => {
        for (let i = w; i < N; i += 50) {
          const r = await get(macs[i]!);
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status === 200 && !r.text.includes(`pw-${macs[i]}`)) wrong++;
        }
      }));
      expect(Object.fromEntries(statuses), round ? 'the reboot' : 'the first boot').to.deep.equal({ 200: N });
      expect(wrong).to.equal(0);
    }
    agent.destroy();
    expect((await d.request('GET', `/api/v1/devices/${macs[N - 1]}/lock`)).json.ip).to.equal('127.0.0.7');
    expect((await device(d, macs[0]!)).lastIp).to.equal('127.0.0.7');
  });
});
