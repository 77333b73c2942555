import { expect } from 'chai';
import { TestDaemon } from './support/daemon.js';
import { addDevice, addUser, applianceCa, assign, device, dls, keyInUrls, phoneRequest, sipPassword, siteKey, unifyItems, workpoint, type PhoneReply } from './support/provisioning.js';

/**
 * A line's credentials reach only the phone they belong to, for every vendor,
 * against the real daemon with the appliance's settings (site key required,
 * credentials over TLS, device lock). The rightful phone asks from 127.0.0.2;
 * attackers who know the MAC ask from 127.0.0.3 and others.
 */
const REGISTRAR = 'pbx.example.test';
const PHONE = '127.0.0.2';
const ATTACKER = '127.0.0.3';

interface KeyedVendor {
  name: string;
  mac: string;
  vendor: string;
  model: string;
  user: string;
  path: (mac: string) => string;
  ua: (mac: string) => string;
}

const colons = (mac: string) => mac.toLowerCase().match(/../g)!.join(':');
const KEYED: KeyedVendor[] = [
  { name: 'Cisco MPP', mac: '00562b0438a1', vendor: 'cisco', model: 'CP-8841-3PCC', user: 'mia', path: (m) => `/${m}.xml`, ua: (m) => `Cisco-CP-8841-3PCC/11.3.7 (${m})` },
  { name: 'Gigaset', mac: '7C2F80E0D8B2', vendor: 'gigaset', model: 'N870 IP PRO', user: 'gus', path: (m) => `/${m.toLowerCase()}.xml`, ua: (m) => `Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;${m}` },
  { name: 'Yealink', mac: '805ec01238c3', vendor: 'yealink', model: 'W70B', user: 'yvo', path: (m) => `/${m}.cfg`, ua: (m) => `Yealink W70B 146.85.0.20 ${colons(m)}` },
  { name: 'Snom', mac: '000413B638D4', vendor: 'snom', model: 'M900', user: 'sam', path: (m) => `/${m}.xml`, ua: (m) => `Mozilla/4.0 (compatible; Snom M900 05.20.0001 ${m.toLowerCase()})` },
];

const BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

describe('provisioning security: credentials only for the phone they belong to', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  let key = '';
  let ca = '';

  /** A phone's request over HTTPS (tls) or HTTP, from a loopback source address, under the key or not. */
  const ask = (o: { path: string; ua?: string; from: string; key?: string | null; tls?: boolean; host?: string }): Promise<PhoneReply> => {
    const prefix = o.key === null ? '' : `/${o.key ?? key}`;
    const headers: Record<string, string> = {};
    if (o.ua) headers['user-agent'] = o.ua;
    if (o.host) headers.host = o.host;
    const tls = o.tls ?? true;
    return phoneRequest(tls ? d.listeners.provisioning_https! : d.listeners.provisioning_http!, { path: prefix + o.path, headers, from: o.from, ...(tls ? { tls: { ca } } : {}) });
  };
  const alerts = async (mac: string | null = null): Promise<any[]> => (await d.request('GET', '/api/v1/provisioning/alerts?limit=1000')).json.alerts.filter((a: any) => mac === null || a.mac === mac.toLowerCase());
  const lock = async (mac: string) => (await d.request('GET', `/api/v1/devices/${mac}/lock`)).json;
  const window = async (action: 'open' | 'close', mac?: string) => {
    const r = await d.request('POST', `/api/v1/provisioning/enrolment/${action}`, { body: mac ? { mac } : {} });
    expect(r.status, r.text).to.equal(200);
  };
  const refused = (r: PhoneReply, code: string, pw: string) => {
    expect(r.status, r.text).to.be.oneOf([403, 404, 421, 429]);
    expect(r.headers['x-pbxd-refusal']).to.equal(code);
    expect(r.text).to.not.include(pw);
  };

  before(async () => {
    d = await TestDaemon.start({
      config: {
        provisioning: {
          host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0, hostnames: ['localhost', REGISTRAR], sipRegistrar: REGISTRAR,
          requireKey: true, credentialsOverTls: true, deviceLock: true, enrolmentMinutes: 60, foreignMacsPerMinute: 10,
        },
      },
    });
    await d.installLicense({ quantities: { users: 50, 'devices.cisco': 5, 'devices.unify': 2 } });
    for (const u of ['mia', 'gus', 'yvo', 'sam', 'carl', 'uwe', 'rita', 'enum']) await addUser(d, u, u, 'Test');
    ca = applianceCa(d);
    key = await siteKey(d);
  });
  after(async () => d.dispose());

  it('shows per vendor the exact URL or DHCP value to set, with the site key where the phone is given a URL', async () => {
    const r = await d.request('GET', '/api/v1/provisioning/urls');
    const by = Object.fromEntries(r.json.urls.map((u: any) => [u.module, u]));
    const https = d.listeners.provisioning_https!.split(':').pop();
    expect(by['cisco-mpp'].value).to.equal(`https://${REGISTRAR}:${https}/${key}/$MA.xml`);
    expect(by.yealink.value).to.equal(`https://${REGISTRAR}:${https}/${key}/`);
    expect(by.snom.value).to.equal(`https://${REGISTRAR}:${https}/${key}/snom{model}.htm`);
    expect(by['cisco-enterprise']).to.deep.include({ where: { en: 'DHCP option 150 (TFTP server)', de: 'DHCP-Option 150 (TFTP-Server)' }, value: REGISTRAR });
    expect(by['cisco-enterprise'].protections.map((x: { en: string }) => x.en)).to.include('device lock and enrolment window');
    expect(by.unify.value).to.equal(`${REGISTRAR}:${d.listeners.wpi!.split(':').pop()}`);
  });

  for (const v of KEYED) {
    it(`${v.name}: served through reboots and a move inside the window; never to another address, without the key, over HTTP or to a browser`, async () => {
      await addDevice(d, v.mac, v.vendor, v.model);
      await assign(d, v.mac, v.user);
      const pw = await sipPassword(d, v.mac);
      const phone = { path: v.path(v.mac), ua: v.ua(v.mac) };

      // First boot (inside the window the assignment opened), then the window closes; reboots keep working.
      expect((await ask({ ...phone, from: PHONE })).text).to.include(pw);
      await window('close', v.mac);
      for (let boot = 0; boot < 2; boot++) expect((await ask({ ...phone, from: PHONE })).text, 'reboot').to.include(pw);
      expect(await lock(v.mac)).to.include({ ip: PHONE, enrolUntil: null });
      const seen = await device(d, v.mac);
      const before = (await alerts(v.mac)).length;

      refused(await ask({ ...phone, from: ATTACKER }), 'PROV_DEVICE_LOCKED', pw);
      refused(await ask({ ...phone, from: ATTACKER, key: null }), 'PROV_KEY_REQUIRED', pw);
      refused(await ask({ ...phone, from: ATTACKER, key: 'f'.repeat(32) }), 'PROV_NOT_FOUND', pw);
      refused(await ask({ ...phone, from: PHONE, tls: false }), 'PROV_TLS_REQUIRED', pw);
      refused(await ask({ path: phone.path, ua: BROWSER, from: ATTACKER }), 'PROV_SUSPICIOUS', pw);
      refused(await ask({ ...phone, from: PHONE, host: 'rebind.attacker.example' }), 'PROV_HOST_UNKNOWN', pw);

      const raised = (await alerts(v.mac)).slice(0, (await alerts(v.mac)).length - before).map((a) => a.kind);
      expect(raised.sort(), 'an alert for each attempt (a wrong key is a miss, limited per source)').to.deep.equal(['browser', 'foreign-address', 'host', 'no-key', 'plain-http']);
      const after = await device(d, v.mac);
      expect(after, 'refused requests change nothing in the device table').to.include({ lastIp: seen.lastIp, model: seen.model, firmware: seen.firmware, licenseState: seen.licenseState });
      expect(await lock(v.mac)).to.include({ ip: PHONE, pendingIp: ATTACKER });

      // A DHCP change inside a window opened for the device: served at the new address, locked there.
      await window('open', v.mac);
      expect((await ask({ ...phone, from: '127.0.0.4' })).text).to.include(pw);
      await window('close', v.mac);
      refused(await ask({ ...phone, from: PHONE }), 'PROV_DEVICE_LOCKED', pw);
      expect(await lock(v.mac)).to.include({ ip: '127.0.0.4' });
    });
  }

  it('a browser or a foreign Host asking for an unknown MAC records nothing', async () => {
    const mac = '805ec0123f01';
    const before = (await d.request('GET', '/api/v1/devices')).json.devices.length;
    const browser = await ask({ path: `/${mac}.cfg`, ua: BROWSER, from: ATTACKER });
    expect(browser.headers['x-pbxd-refusal'], 'no vendor names itself: a miss').to.equal('PROV_NOT_FOUND');
    const rebound = await ask({ path: `/${mac}.cfg`, ua: `Yealink W70B 146.85.0.20 ${colons(mac)}`, from: ATTACKER, host: 'rebind.attacker.example' });
    expect(rebound.headers['x-pbxd-refusal']).to.equal('PROV_HOST_UNKNOWN');
    expect((await d.request('GET', '/api/v1/devices')).json.devices.length).to.equal(before);
    // The same request as the phone makes it is recorded (so the two above were refused before anything was recorded).
    await ask({ path: `/${mac}.cfg`, ua: `Yealink W70B 146.85.0.20 ${colons(mac)}`, from: ATTACKER });
    expect(await device(d, mac)).to.include({ vendor: 'yealink', licenseState: 'unassigned' });
  });

  it('Snom: the files it names carry the key and the scheme they were fetched with', async () => {
    const snom = KEYED.find((v) => v.vendor === 'snom')!;
    const r = await ask({ path: '/snomM900.htm', ua: snom.ua(snom.mac), from: '127.0.0.4' });
    expect(r.status, r.text).to.equal(200);
    expect(r.text).to.match(new RegExp(`url="https://${REGISTRAR}:\\d+/${key}/${snom.mac}\\.xml"`));
    // The index has no secret: another address gets it, but does not become the device's last address.
    const before = await device(d, snom.mac);
    expect((await ask({ path: `/snomM900-${snom.mac}.htm`, ua: snom.ua(snom.mac), from: ATTACKER })).status).to.equal(200);
    expect(await device(d, snom.mac)).to.include({ lastIp: before.lastIp });
    expect(before.lastIp).to.equal('127.0.0.4');
  });

  it('Cisco enterprise (plain HTTP, no key): the lock is what protects it; another address gets no secret and raises an alert', async () => {
    const mac = '00562B0438E5';
    await addDevice(d, mac, 'cisco', 'CP-8845');
    await assign(d, mac, 'carl');
    const pw = await sipPassword(d, mac);
    const get = (from: string, ua?: string) => ask({ path: `/SEP${mac}.cnf.xml`, from, tls: false, key: null, ua });
    expect((await get(PHONE)).text).to.include(pw);
    await window('close', mac);
    expect((await get(PHONE)).text, 'reboot').to.include(pw);
    refused(await get(ATTACKER), 'PROV_DEVICE_LOCKED', pw);
    refused(await get(PHONE, BROWSER), 'PROV_SUSPICIOUS', pw);
    expect((await alerts(mac)).map((a) => a.kind)).to.include.members(['foreign-address', 'browser']);
    // The badge: the admin allows the new address, and the phone there is served.
    expect((await d.request('POST', `/api/v1/devices/${mac}/address/allow`)).json).to.include({ ip: ATTACKER, pendingIp: null });
    expect((await get(ATTACKER)).text).to.include(pw);
    refused(await get(PHONE), 'PROV_DEVICE_LOCKED', pw);
    const blocked = await d.request('POST', `/api/v1/devices/${mac}/address/block`);
    expect(blocked.json).to.include({ ip: ATTACKER, pendingIp: null });
    refused(await get(PHONE), 'PROV_DEVICE_LOCKED', pw);
    const entries = (await d.request('GET', '/api/v1/audit?limit=200')).json.entries.map((e: any) => e.action);
    expect(entries).to.include.members(['provisioning.alert', 'provisioning.address.allow', 'provisioning.address.block']);
  });

  it("Cisco MPP: the enterprise phones' plain-HTTP path gives an MPP phone's secret to no one", async () => {
    const mac = '00562B0438F6';
    await addDevice(d, mac, 'cisco', 'CP-8841-3PCC');
    await assign(d, mac, 'uwe');
    const pw = await sipPassword(d, mac);
    // Before the phone ever asked (the lock would still let the first asker in): no key, no TLS, no User-Agent.
    const r = await ask({ path: `/SEP${mac}.cnf.xml`, from: ATTACKER, tls: false, key: null });
    expect(r.status, r.text).to.equal(400);
    expect(r.headers['x-pbxd-refusal']).to.equal('PROV_VENDOR_MISMATCH');
    expect(r.text).to.not.include(pw);
    expect((await lock(mac)).ip, 'not locked to the stranger').to.equal(null);
    // The phone itself, the way it fetches, is served.
    expect((await ask({ path: `/${mac.toLowerCase()}.xml`, ua: `Cisco-CP-8841-3PCC/11.3.7 (${mac.toLowerCase()})`, from: PHONE })).text).to.include(pw);
  });

  it('Unify WPI: credential items only in a dialogue this server started, from the address the phone is locked to', async () => {
    const mac = '001AE8A138F6';
    await addDevice(d, mac, 'unify', 'OpenScape Desk Phone CP600');
    await assign(d, mac, 'uwe');
    const pw = await sipPassword(d, mac);
    const post = (from: string, body: string, cookie?: string) =>
      phoneRequest(d.listeners.wpi!, { method: 'POST', path: '/DeploymentService/LoginService', from, tls: { ca }, body,
        headers: { 'content-type': 'text/xml; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), ...(cookie ? { cookie } : {}) } });
    const dialogue = async (from: string) => {
      const open = dls(await post(from, workpoint(null, 'start-up', unifyItems(colons(mac)))));
      expect(open.action).to.equal('ReadAllItems');
      return dls(await post(from, workpoint(open.nonce, 'reply-to', unifyItems(colons(mac)), ' action="ReadAllItems" status="accepted"'), open.cookie));
    };
    const first = await dialogue(PHONE);
    expect(first.action).to.equal('WriteItems');
    expect(first.items['sip-pwd']).to.equal(pw);
    await window('close', mac);

    const stolen = await dialogue(ATTACKER);
    expect(stolen.action, 'the dialogue ends politely').to.equal('CleanUp');
    expect(JSON.stringify(stolen.items)).to.not.include(pw);
    const forged = await post(ATTACKER, workpoint('ABCDEF0123456789ABCDEF0123456789', 'reply-to', unifyItems(colons(mac)), ' action="ReadAllItems" status="accepted"'));
    expect(forged.status).to.equal(400);
    expect(forged.headers['x-pbxd-refusal']).to.equal('PROV_WPI_NONCE');
    expect(forged.text).to.not.include(pw);
    expect((await alerts(mac)).map((a) => a.kind)).to.include('foreign-address');
    expect((await alerts()).some((a) => a.kind === 'wpi-forged' && a.ip === ATTACKER)).to.equal(true);
    expect((await dialogue(PHONE)).items['sip-pwd'], 'the rightful phone, again').to.equal(pw);
  });

  it('limits a source that asks for many devices it is not entitled to, and raises an alert', async () => {
    const macs = Array.from({ length: 12 }, (_, i) => `7c2f80e0e1${(i + 16).toString(16)}`);
    for (const m of macs) (await addDevice(d, m, 'gigaset', 'N870 IP PRO'), await assign(d, m, 'enum'));
    const codes: string[] = [];
    for (const m of macs) {
      const r = await ask({ path: `/${m}.xml`, ua: `Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;${m.toUpperCase()}`, from: '127.0.0.9', key: null });
      expect(r.text).to.not.match(/Password/);
      codes.push(String(r.headers['x-pbxd-refusal']));
    }
    expect(codes.slice(0, 11)).to.deep.equal(Array(11).fill('PROV_KEY_REQUIRED'));
    expect(codes[11]).to.equal('PROV_ENUMERATION');
    expect((await alerts()).filter((a) => a.kind === 'enumeration' && a.ip === '127.0.0.9')).to.have.length(1);
    // The phones themselves are not affected.
    const m = macs[0]!;
    expect((await ask({ path: `/${m}.xml`, ua: `Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;${m.toUpperCase()}`, from: PHONE })).status).to.equal(200);
    const metrics = await (await fetch(`${d.apiUrl}/metrics`)).text();
    expect(metrics).to.match(/pbxd_provisioning_alerts_total\{kind="enumeration"\} 1/);
  });

  it('a key rotation: the old key keeps working for the overlap, then only the new one', async () => {
    const mac = '7C2F80E0D9A7';
    const ua = `Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;${mac}`;
    await addDevice(d, mac, 'gigaset', 'N870 IP PRO');
    await assign(d, mac, 'rita');
    const pw = await sipPassword(d, mac);
    const old = key;
    expect((await ask({ path: `/${mac.toLowerCase()}.xml`, ua, from: PHONE, key: old })).text).to.include(pw);
    const r = await d.request('POST', '/api/v1/provisioning/key/rotate', { body: { overlapHours: 1 } });
    expect(r.status, r.text).to.equal(200);
    const fresh = keyInUrls(r.json.urls, 'gigaset');
    expect(fresh).to.not.equal(old);
    expect(r.json.previousKeys).to.have.length(1);
    expect((await ask({ path: `/${mac.toLowerCase()}.xml`, ua, from: PHONE, key: old })).text, 'old key inside the overlap').to.include(pw);
    expect((await ask({ path: `/${mac.toLowerCase()}.xml`, ua, from: PHONE, key: fresh })).text).to.include(pw);
    await d.setClock(new Date(Date.now() + 2 * 3600_000));
    refused(await ask({ path: `/${mac.toLowerCase()}.xml`, ua, from: PHONE, key: old }), 'PROV_NOT_FOUND', pw);
    expect((await ask({ path: `/${mac.toLowerCase()}.xml`, ua, from: PHONE, key: fresh })).text).to.include(pw);
    const audit = (await d.request('GET', '/api/v1/audit?limit=500')).text;
    expect(audit).to.include('provisioning.key.rotate');
    expect(audit, 'the key itself is never in the audit log').to.not.include(fresh);
  });
});
