import { expect } from 'chai';
import { XMLValidator } from 'fast-xml-parser';
import { TestDaemon } from './support/daemon.js';
import { addUser, assign, device, devices, dls, events, sipPassword, unifyItems, used, wpi, workpoint } from './support/provisioning.js';

/**
 * The Unify workpoint interface message by message, as an OpenScape Desk
 * Phone speaks it: every message on a new TLS connection (`wpi()` opens one
 * per request), the replies without mac-addr, the server's nonce and cookie
 * carried from one message to the next.
 */
const PHONE = '001AE8A1B2C3';
const SECOND = '001AE8A1B2C4';
const THIRD = '001AE8A1B2C5';
const READ_REPLY = ' action="ReadAllItems" status="accepted"';
/** What the phone sends back after ReadAllItems: its items, no mac-addr. */
const itemsReply = { 'device-type': 'OpenScape Desk Phone CP600', 'software-version': 'V1 R7.2.0', e164: '', 'sip-pwd': '' };

describe('provisioning: the Unify WPI dialogue, message by message', function () {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start({ config: { provisioning: { host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0, sipRegistrar: 'pbx.example.test', sipPort: 5062, timeZone: 'Europe/Berlin', language: 'de' } } });
    for (const u of ['hans', 'ida', 'jan']) await addUser(d, u, u, 'Test');
    await d.installLicense({ quantities: { users: 25, 'devices.cisco': 0, 'devices.unify': 1 } });
  });
  after(async () => d.dispose());

  it('records an unknown phone as unassigned and ends its dialogue with CleanUp', async () => {
    const r = await wpi(d, workpoint('01', 'start-up', unifyItems(PHONE)));
    expect(r.status).to.equal(200);
    expect(dls(r).action).to.equal('CleanUp');
    expect(await device(d, PHONE)).to.include({ vendor: 'unify', licenseState: 'unassigned', model: 'OpenScape Desk Phone CP600' });
  });

  it('start-up → ReadAllItems → WriteItems → CleanUp, each on a new connection, with the nonces and cookie the server issued', async () => {
    await assign(d, PHONE, 'hans');
    const start = await wpi(d, workpoint('0F0F', 'start-up', unifyItems(PHONE)));
    const a1 = dls(start);
    expect(a1.action).to.equal('ReadAllItems');
    expect(a1.nonce, 'a nonce of the server, not the phone\'s').to.match(/^[0-9A-F]{32}$/).and.not.equal('0F0F');
    expect(a1.cookie).to.match(/^pbxd-wpi=[0-9a-f]{32}$/);
    expect(used(await d.status(), 'devices.unify').used, 'no license at start-up: nothing is handed out yet').to.equal(0);

    // The reply carries no mac-addr: the server knows the phone by its nonce, on a new connection.
    const read = await wpi(d, workpoint(a1.nonce, 'reply-to', itemsReply, READ_REPLY), { cookie: a1.cookie! });
    expect(read.status, read.text).to.equal(200);
    const a2 = dls(read);
    expect(a2.action).to.equal('WriteItems');
    expect(a2.nonce).to.not.equal(a1.nonce);
    const pw = await sipPassword(d, PHONE);
    expect(a2.items).to.include({
      'sip-user-id': 'hans', 'sip-pwd': pw, 'display-id-unicode': 'hans Test',
      'reg-addr': 'pbx.example.test', 'reg-port': '5062', 'registrar-addr': 'pbx.example.test', 'registrar-port': '5062',
      realm: 'pbx.example.test', 'sip-transport': 'UDP', 'sntp-addr': 'pbx.example.test', 'sntp-tz-offset': '60',
      'auto-daylight-save': 'true', 'daylight-save-minutes': '60', 'language-iso': 'de',
    });
    expect(a2.items['daylight-save']).to.be.oneOf(['true', 'false']);
    expect(used(await d.status(), 'devices.unify').used, 'the license is taken with WriteItems').to.equal(1);
    expect((await events(d)).some((e) => e.mac === PHONE.toLowerCase() && e.outcome === 'served' && /WriteItems.*took a devices\.unify license/.test(e.detail))).to.equal(true);

    const done = await wpi(d, workpoint(a2.nonce, 'reply-to', {}, ' action="WriteItems" status="accepted"'), { cookie: a1.cookie! });
    expect(dls(done).action).to.equal('CleanUp');
    // The dialogue is over: its nonce answers nothing more.
    const replay = await wpi(d, workpoint(a2.nonce, 'reply-to', itemsReply, READ_REPLY), { cookie: a1.cookie! });
    expect(replay.status).to.equal(400);
    expect(replay.headers['x-pbxd-refusal']).to.equal('PROV_WPI_NONCE');
    expect(replay.text).to.not.include(pw);
  });

  it('answers fragment="next" with GetNextFragment and writes the items after the last fragment', async () => {
    const a1 = dls(await wpi(d, workpoint('', 'start-up', unifyItems(PHONE))));
    const frag = await wpi(d, workpoint(a1.nonce, 'reply-to', itemsReply, `${READ_REPLY} fragment="next"`), { cookie: a1.cookie! });
    const a2 = dls(frag);
    expect(a2.action).to.equal('GetNextFragment');
    expect(frag.text).to.not.include('sip-pwd');
    const last = dls(await wpi(d, workpoint(a2.nonce, 'reply-to', { 'ringer-melody': '2' }, `${READ_REPLY} fragment="final"`), { cookie: a1.cookie! }));
    expect(last.action).to.equal('WriteItems');
    expect(last.items['sip-pwd']).to.equal(await sipPassword(d, PHONE));
  });

  it('answers a busy phone with CleanUp and send-solicited=true', async () => {
    const a1 = dls(await wpi(d, workpoint('', 'start-up', unifyItems(PHONE))));
    const busy = await wpi(d, workpoint(a1.nonce, 'reply-to', {}, ' action="ReadAllItems" status="busy"'), { cookie: a1.cookie! });
    expect(busy.status).to.equal(200);
    const a = dls(busy);
    expect(a.action).to.equal('CleanUp');
    expect(a.items).to.deep.equal({ 'send-solicited': 'true' });
  });

  it('refuses a reply with a nonce it did not issue, or with another dialogue\'s cookie, and hands out nothing', async () => {
    const foreign = await wpi(d, workpoint('ABCDEF0123', 'reply-to', itemsReply, READ_REPLY));
    expect(foreign.status).to.equal(400);
    expect(foreign.headers['x-pbxd-refusal']).to.equal('PROV_WPI_NONCE');
    const mine = dls(await wpi(d, workpoint('', 'start-up', unifyItems(PHONE))));
    const other = dls(await wpi(d, workpoint('', 'start-up', unifyItems(PHONE))));
    const crossed = await wpi(d, workpoint(mine.nonce, 'reply-to', itemsReply, READ_REPLY), { cookie: other.cookie! });
    expect(crossed.status).to.equal(400);
    expect(crossed.headers['x-pbxd-refusal']).to.equal('PROV_WPI_NONCE');
    expect(crossed.text).to.not.include(await sipPassword(d, PHONE));
  });

  it('answers a MAC outside Unify\'s prefixes with CleanUp, not an error, and does not record it', async () => {
    const before = (await devices(d)).length;
    const r = await wpi(d, workpoint('', 'start-up', unifyItems('00:11:22:33:44:55')));
    expect(r.status).to.equal(200);
    expect(XMLValidator.validate(r.text)).to.equal(true);
    expect(dls(r).action).to.equal('CleanUp');
    expect((await devices(d)).length).to.equal(before);
    expect(await device(d, '001122334455')).to.equal(undefined);
  });

  it('with no license free: ReadAllItems at start-up, then CleanUp instead of WriteItems, and the phone waits', async () => {
    await wpi(d, workpoint('', 'start-up', unifyItems(SECOND)));
    await assign(d, SECOND, 'ida');
    const a1 = dls(await wpi(d, workpoint('', 'start-up', unifyItems(SECOND))));
    expect(a1.action).to.equal('ReadAllItems');
    const r = await wpi(d, workpoint(a1.nonce, 'reply-to', itemsReply, READ_REPLY), { cookie: a1.cookie! });
    expect(r.status).to.equal(200);
    expect(dls(r).action).to.equal('CleanUp');
    expect(r.text).to.not.include('sip-pwd').and.not.include(await sipPassword(d, SECOND));
    expect((await device(d, SECOND)).licenseState).to.equal('waiting');
    expect((await events(d)).some((e) => e.mac === SECOND.toLowerCase() && e.outcome === 'refused_license')).to.equal(true);
  });

  it('also speaks WPI on the HTTPS provisioning port with the appliance certificate', async () => {
    const { phoneRequest, applianceCa } = await import('./support/provisioning.js');
    const body = workpoint('', 'start-up', unifyItems(THIRD));
    const r = await phoneRequest(d.listeners.provisioning_https!, { method: 'POST', path: '/DeploymentService/LoginService', headers: { 'content-type': 'text/xml' }, body, tls: { ca: applianceCa(d) } });
    expect(r.status).to.equal(200);
    expect(dls(r).action).to.equal('CleanUp');
  });
});
