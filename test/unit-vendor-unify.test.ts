import { expect } from 'chai';
import { WpiDialogues, unify, WPI_PATH } from '../provisioning/vendors/unify.js';
import { dls, moduleSettings, sampleLine, unifyItems, validate, workpoint } from './support/provisioning.js';
import type { DialogueTurn } from '../provisioning/vendors/vendor.js';

const PHONE = '001AE8A1B2C3';
const READ = ' action="ReadAllItems" status="accepted"';
const turnOf = (r: ReturnType<WpiDialogues['turn']>): DialogueTurn => {
  if (!r.ok) throw new Error(`refused: ${r.code} ${r.detail}`);
  return r;
};
const answer = async (t: DialogueTurn, eligible = true) => {
  const body = t.answer(eligible, t.configures ? sampleLine() : null, await moduleSettings()).body;
  return dls({ status: 200, headers: { 'set-cookie': t.headers['set-cookie'] ? [t.headers['set-cookie']] : undefined }, text: body });
};

describe('vendor module: Unify WPI (no daemon)', () => {
  it('takes only POSTs to the WPI path as a dialogue', () => {
    expect(unify.recognise({ path: WPI_PATH, file: WPI_PATH.slice(1), lower: '', macParam: null, userAgent: '' }, null)).to.include({ kind: 'dialogue' });
    expect(unify.recognise({ path: '/001ae8a1b2c3.xml', file: '001ae8a1b2c3.xml', lower: '', macParam: null, userAgent: '' }, null)).to.equal(null);
  });

  it('keeps a dialogue by the nonce it issued, not by the connection, and ends it after CleanUp', async () => {
    const w = new WpiDialogues();
    const start = turnOf(w.turn(workpoint('', 'start-up', unifyItems(PHONE)), undefined));
    expect(start).to.include({ mac: PHONE, needsDevice: true, configures: false, foreign: false });
    const a1 = await answer(start);
    expect(a1.action).to.equal('ReadAllItems');
    const read = turnOf(w.turn(workpoint(a1.nonce, 'reply-to', {}, READ), a1.cookie));
    expect(read).to.include({ mac: PHONE, configures: true });
    const a2 = await answer(read);
    expect(a2.action).to.equal('WriteItems');
    expect(validate.unifyWriteItems(dlsText(read))).to.include({ registrar: 'pbx.example.test', port: '5060', user: '2042', password: 'pw-Secret-1', time: '60', language: 'de' });
    const close = turnOf(w.turn(workpoint(a2.nonce, 'reply-to', {}, ' action="WriteItems" status="accepted"'), a1.cookie));
    expect((await answer(close)).action).to.equal('CleanUp');
    expect(w.size).to.equal(0);
    const again = w.turn(workpoint(a2.nonce, 'reply-to', {}, READ), a1.cookie);
    expect(again).to.include({ ok: false, code: 'PROV_WPI_NONCE' });
  });

  it('forgets a dialogue the phone does not continue within two minutes', async () => {
    let now = 1_000_000;
    const w = new WpiDialogues(() => now);
    const a1 = await answer(turnOf(w.turn(workpoint('', 'start-up', unifyItems(PHONE)), undefined)));
    now += 121_000;
    expect(w.turn(workpoint(a1.nonce, 'reply-to', {}, READ), a1.cookie)).to.include({ ok: false, code: 'PROV_WPI_NONCE' });
  });

  it('answers CleanUp to a MAC outside Unify\'s prefixes, and refuses a malformed MAC or a reply naming another phone', async () => {
    const w = new WpiDialogues();
    const foreign = turnOf(w.turn(workpoint('', 'start-up', unifyItems('00:11:22:33:44:55')), undefined));
    expect(foreign).to.include({ foreign: true, needsDevice: false });
    expect((await answer(foreign, false)).action).to.equal('CleanUp');
    expect(w.turn(workpoint('', 'start-up', unifyItems('00:1a:e8:zz:00:01')), undefined)).to.include({ ok: false, code: 'PROV_BAD_MAC' });
    const a1 = await answer(turnOf(w.turn(workpoint('', 'start-up', unifyItems(PHONE)), undefined)));
    expect(w.turn(workpoint(a1.nonce, 'reply-to', { 'mac-addr': '001AE8000009' }, READ), a1.cookie)).to.include({ ok: false, code: 'PROV_MAC_MISMATCH' });
  });
});

/** The WriteItems text of a configuring turn. */
function dlsText(t: DialogueTurn): string {
  return t.answer(true, sampleLine(), { registrar: 'pbx.example.test', sipPort: 5060, transport: 'udp', zone: { name: 'Europe/Berlin', offset: 60, dst: null }, ntpServer: '', language: 'de', baseUrl: '' }).body;
}
