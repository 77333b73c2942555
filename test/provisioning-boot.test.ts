import { expect } from 'chai';
import { TestDaemon } from './support/daemon.js';
import { addDevice, addUser, assign, device, dls, events, prov, sipPassword, unifyItems, validate, wpi, workpoint, type PhoneReply, type Registration } from './support/provisioning.js';

/**
 * Each vendor's boot replayed against the real daemon as the device makes it
 * (the files in its order, its User-Agent or none, one connection per
 * request), every answer asserted, the configuration parsed with a validator
 * of the vendor's format, and the items to register checked.
 */
const REGISTRAR = 'pbx.example.test';
const CISCO = '00562B0437A1';
const MPP = '00562b0437b2';
const GIGASET = '7C2F80E0D7C3';
const YEALINK = '805ec01237d4';
const SNOM = '000413B637E5';
const UNIFY = '001AE8A137F6';

type Step = { path: string; headers?: Record<string, string>; status: number; check?: (r: PhoneReply) => unknown };

async function replay(d: TestDaemon, steps: Step[]): Promise<PhoneReply[]> {
  const out: PhoneReply[] = [];
  for (const s of steps) {
    const r = await prov(d, s.path, s.headers ?? {});
    expect(r.status, `${s.path}: ${r.text.slice(0, 200)}`).to.equal(s.status);
    if (r.status !== 200) expect(r.text, `${s.path} refused without a secret`).to.not.match(/password|Password|user_pass|sip-pwd/);
    await s.check?.(r);
    out.push(r);
  }
  return out;
}

/** What every vendor's file must carry for this appliance (time in the vendor's own notation). */
function expectRegistration(r: Registration, user: string, password: string, time: { time: string; dst: RegExp; language: string }): void {
  expect(r).to.include({ registrar: REGISTRAR, port: '5062', transport: 'udp', user, authName: user, password, displayName: `${user} Test`, time: time.time, language: time.language });
  expect(r.dst).to.match(time.dst);
}

describe('provisioning: real boots replayed, one vendor at a time', function () {
  this.timeout(30_000);
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start({ config: { provisioning: { host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0, sipRegistrar: REGISTRAR, sipPort: 5062, timeZone: 'Europe/Berlin', language: 'de' } } });
    await d.installLicense({ quantities: { users: 25, 'devices.cisco': 2, 'devices.unify': 1 } });
    for (const u of ['cora', 'mats', 'gina', 'yann', 'sven', 'ulla']) await addUser(d, u, u, 'Test');
  });
  after(async () => d.dispose());

  it('Cisco enterprise (8845, TFTP/HTTP without a User-Agent): trust lists and signed file absent, configuration, the files it names', async () => {
    await addDevice(d, CISCO, 'cisco', 'CP-8845');
    await assign(d, CISCO, 'cora');
    const pw = await sipPassword(d, CISCO);
    let named: { dialTemplate: string; softKeyFile: string } | undefined;
    await replay(d, [
      { path: `/CTLSEP${CISCO}.tlv`, status: 404 },
      { path: `/ITLSEP${CISCO}.tlv`, status: 404 },
      { path: '/ITLFile.tlv', status: 404 },
      { path: `/SEP${CISCO}.cnf.xml.sgn`, status: 404 },
      {
        path: `/SEP${CISCO}.cnf.xml`, status: 200, check: (r) => {
          const v = validate.ciscoEnterprise(r.text);
          expectRegistration(v, 'cora', pw, { time: 'W. Europe Standard/Daylight Time', dst: /^by zone$/, language: 'built-in (English)' });
          expect(v.locale, 'no locale whose files are not here').to.equal(null);
          named = v;
        },
      },
    ]);
    await replay(d, [
      { path: `/${named!.dialTemplate}`, status: 200, check: (r) => expect(r.text).to.include('<DIALTEMPLATE>') },
      { path: `/${named!.softKeyFile}`, status: 200, check: (r) => expect(r.text).to.include('<softKeyCfg>') },
      { path: '/Ringlist-wb.xml', status: 200, check: (r) => expect(r.text).to.include('<CiscoIPPhoneRingList>') },
      { path: '/DistinctiveRingList.xml', status: 200 },
    ]);
    expect(await device(d, CISCO)).to.include({ licenseState: 'licensed' });
  });

  it('Cisco MPP (8841 3PCC): its profile with GMT+01:00 and the DST rule; a browser or no User-Agent is refused and recorded as suspicious', async () => {
    const ua = `Cisco-CP-8841-3PCC/11.3.7_1234 (${MPP})`;
    await replay(d, [{ path: `/${MPP}.xml`, headers: { 'user-agent': ua }, status: 404 }]); // unknown: recorded
    await assign(d, MPP, 'mats');
    const pw = await sipPassword(d, MPP);
    await replay(d, [{
      path: `/${MPP}.xml`, headers: { 'user-agent': ua }, status: 200,
      check: (r) => expectRegistration(validate.ciscoMpp(r.text), 'mats', pw, { time: 'GMT+01:00', dst: /^start=3\/-1\/7\/2;end=10\/-1\/7\/3;save=1$/, language: 'German' }),
    }]);
    const seen = await device(d, MPP);
    for (const headers of [{ 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' }, {} as Record<string, string>]) {
      const r = await prov(d, `/${MPP}.xml`, headers, 'GET', '127.0.0.2');
      expect(r.status).to.equal(403);
      expect(r.headers['x-pbxd-refusal']).to.equal('PROV_SUSPICIOUS');
      expect(r.text).to.not.include(pw);
    }
    expect((await events(d)).filter((e) => e.mac === MPP && e.outcome === 'rejected' && /^suspicious/.test(e.detail))).to.have.length(2);
    const after = await device(d, MPP);
    expect(after, 'a refused request changes nothing the table shows').to.include({ model: seen.model, firmware: seen.firmware, lastIp: seen.lastIp });
    expect(after.lastIp).to.equal('127.0.0.1');
  });

  it('Gigaset N870 IP PRO: <mac>.xml with the handset subscription and its access code; no license', async () => {
    const ua = `Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;${GIGASET}`;
    await replay(d, [{ path: `/${GIGASET.toLowerCase()}.xml`, headers: { 'user-agent': ua }, status: 404 }]);
    await assign(d, GIGASET, 'gina');
    const pw = await sipPassword(d, GIGASET);
    await replay(d, [{
      path: `/${GIGASET.toLowerCase()}.xml`, headers: { 'user-agent': ua }, status: 200,
      check: (r) => {
        const v = validate.gigaset(r.text);
        expectRegistration(v, 'gina', pw, { time: 'Europe/Berlin', dst: /^by zone$/, language: 'de' });
        expect(v.accessCode).to.match(/^\d{4}$/);
      },
    }]);
    expect(await device(d, GIGASET)).to.include({ licenseState: 'not_required', model: 'N870 IP PRO' });
  });

  it('Yealink W70B: the common file, then <mac>.cfg, parsed line by line', async () => {
    const ua = `Yealink W70B 146.85.0.20 ${YEALINK.match(/../g)!.join(':')}`;
    await replay(d, [{ path: `/${YEALINK}.cfg`, headers: { 'user-agent': ua }, status: 404 }]);
    await assign(d, YEALINK, 'yann');
    const pw = await sipPassword(d, YEALINK);
    await replay(d, [
      { path: '/y000000000146.cfg', headers: { 'user-agent': ua }, status: 200, check: (r) => expect(validate.yealinkLines(r.text).get('lang.wui')).to.equal('German') },
      {
        path: `/${YEALINK}.cfg`, headers: { 'user-agent': ua }, status: 200,
        check: (r) => {
          const v = validate.yealink(r.text);
          expectRegistration(v, 'yann', pw, { time: '+1', dst: /^3\/5\/7\/2 10\/5\/7\/3 60$/, language: 'German' });
          expect(v.handsetLanguage).to.equal('German');
        },
      },
    ]);
  });

  it('Snom M900 (firmware 05.20): snomM900.htm, snomM900-<MAC>.htm, then the <MAC>.xml they name', async () => {
    const ua = `Mozilla/4.0 (compatible; Snom M900 05.20.0001 ${SNOM.toLowerCase()})`;
    await replay(d, [{ path: `/snomM900-${SNOM}.htm`, headers: { 'user-agent': ua }, status: 404 }]);
    expect(await device(d, SNOM)).to.include({ vendor: 'snom', model: 'M900', firmware: '05.20.0001' });
    await assign(d, SNOM, 'sven');
    const pw = await sipPassword(d, SNOM);
    const named: string[] = [];
    const index = (r: PhoneReply) => {
      const url = /<file url="([^"]+)"/.exec(r.text)?.[1];
      expect(url, r.text).to.be.a('string');
      named.push(new URL(url!).pathname);
    };
    await replay(d, [
      { path: '/snomM900.htm', headers: { 'user-agent': ua }, status: 200, check: index },
      { path: `/snomM900-${SNOM}.htm`, headers: { 'user-agent': ua }, status: 200, check: index },
    ]);
    expect(named).to.deep.equal([`/${SNOM}.xml`, `/${SNOM}.xml`]);
    await replay(d, [{
      path: named[0]!, headers: { 'user-agent': ua }, status: 200,
      check: (r) => expectRegistration(validate.snom(r.text), 'sven', pw, { time: '3600', dst: /^3600 03\.05\.07 02:00:00 10\.05\.07 03:00:00$/, language: 'Deutsch' }),
    }]);
    // A base that states its MAC only in the query (setting URL …?mac={mac}).
    await replay(d, [{ path: `/snomM900.htm?mac=${SNOM}`, headers: { 'user-agent': ua }, status: 200, check: (r) => expect(r.text).to.include(`/${SNOM}.xml`) }]);
  });

  it('Unify OpenScape Desk Phone CP600: the WPI dialogue to WriteItems, its items validated', async () => {
    await wpi(d, workpoint('', 'start-up', unifyItems(UNIFY)));
    await assign(d, UNIFY, 'ulla');
    const a1 = dls(await wpi(d, workpoint('', 'start-up', unifyItems(UNIFY))));
    expect(a1.action).to.equal('ReadAllItems');
    const write = await wpi(d, workpoint(a1.nonce, 'reply-to', { e164: '', 'sip-pwd': '' }, ' action="ReadAllItems" status="accepted"'), { cookie: a1.cookie! });
    expectRegistration(validate.unifyWriteItems(write.text), 'ulla', await sipPassword(d, UNIFY), { time: '60', dst: /^60$/, language: 'de' });
    expect(dls(await wpi(d, workpoint(dls(write).nonce, 'reply-to', {}, ' action="WriteItems" status="accepted"'), { cookie: a1.cookie! })).action).to.equal('CleanUp');
  });
});
