import { expect } from 'chai';
import { yealink, yealinkTime } from '../provisioning/vendors/yealink.js';
import { zoneRule } from '../provisioning/time-zone.js';
import { facts, moduleSettings, sampleLine, validate } from './support/provisioning.js';

describe('vendor module: Yealink (no daemon)', () => {
  it('reads its User-Agent and knows its common and per-MAC files', () => {
    const ua = yealink.agent('Yealink W70B 146.85.0.20 80:5e:c0:12:34:56');
    expect(ua).to.deep.equal({ model: 'W70B', firmware: '146.85.0.20', mac: '80:5e:c0:12:34:56' });
    expect(yealink.recognise(facts('/y000000000146.cfg'), ua)).to.include({ kind: 'common', name: 'y000000000146.cfg' });
    expect(yealink.recognise(facts('/805ec0123456.cfg'), ua)).to.include({ kind: 'config', mac: '805ec0123456', shared: false });
    expect(yealink.recognise(facts('/805ec0123456.xml'), ua)).to.equal(null);
  });

  it('writes the keys the base reads: lang.wui, the handset language, the time zone and its DST rule', async () => {
    const s = await moduleSettings({ language: 'de' });
    const v = validate.yealink(yealink.render!(sampleLine({ line: 2 }), s).body, 2);
    expect(v).to.include({ registrar: 'pbx.example.test', port: '5060', transport: 'udp', user: '2042', password: 'pw-Secret-1', displayName: 'Anna Berg', time: '+1', language: 'German', handsetLanguage: 'German' });
    expect(Object.fromEntries(yealinkTime(zoneRule('Europe/Berlin', 2026)))).to.deep.equal({
      'local_time.time_zone': '+1', 'local_time.summer_time': 1, 'local_time.dst_time_type': 1, 'local_time.start_time': '3/5/7/2', 'local_time.end_time': '10/5/7/3', 'local_time.offset_time': 60,
    });
    expect(Object.fromEntries(yealinkTime(zoneRule('Asia/Kolkata', 2026)))).to.deep.equal({ 'local_time.time_zone': '+5.5', 'local_time.summer_time': 0 });
    const common = validate.yealinkLines(yealink.commonFiles!(s).get('y000000000146.cfg')!.body);
    expect(common.get('lang.wui')).to.equal('German');
    expect([...common.keys()].some((k) => /password|account/.test(k)), 'no credentials in the common file').to.equal(false);
  });

  it('keeps a value with a line break on one line (the format cannot escape)', async () => {
    const t = yealink.render!(sampleLine({ displayName: 'Evil\nlang.wui = Klingon' }), await moduleSettings()).body;
    expect(validate.yealinkLines(t).get('lang.wui')).to.equal('German');
  });
});
