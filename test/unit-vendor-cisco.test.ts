import { expect } from 'chai';
import { XMLValidator } from 'fast-xml-parser';
import { ciscoEnterprise, ciscoZoneName } from '../provisioning/vendors/cisco-enterprise.js';
import { ciscoMpp, mppTime } from '../provisioning/vendors/cisco-mpp.js';
import { zoneRule } from '../provisioning/time-zone.js';
import { facts, moduleSettings, sampleLine, validate } from './support/provisioning.js';

describe('vendor module: Cisco enterprise (no daemon)', () => {
  it('recognises the boot files by name, without a User-Agent', () => {
    const r = (f: string) => ciscoEnterprise.recognise(facts(f), null);
    expect(r('/SEP00562B043615.cnf.xml')).to.include({ kind: 'config', mac: '00562B043615' });
    expect(r('/SEP00562B043615.cnf.xml.sgn')).to.include({ kind: 'absent', mac: '00562B043615' });
    expect(r('/CTLSEP00562B043615.tlv')).to.include({ kind: 'absent' });
    expect(r('/ITLFile.tlv')).to.include({ kind: 'absent', mac: null });
    for (const f of ['/dialplan.xml', '/softkeys.xml', '/RingList.xml', '/Ringlist-wb.xml', '/DistinctiveRingList.xml']) expect(r(f), f).to.include({ kind: 'common', mac: null });
    expect(r('/00562b043615.xml')).to.equal(null);
    expect(ciscoEnterprise.agent('Cisco-CP-8841-3PCC/11.3.7 (00562b043615)')).to.equal(null);
  });

  it('renders a configuration the phone takes: a line with lineIndex, transport, dial plan and soft keys that are served, no locale', async () => {
    const s = await moduleSettings({ sipPort: 5062 });
    const t = ciscoEnterprise.render!(sampleLine({ line: 2 }), s).body;
    const v = validate.ciscoEnterprise(t);
    expect(v).to.include({ registrar: 'pbx.example.test', port: '5062', transport: 'udp', user: '2042', authName: '2042', password: 'pw-Secret-1', displayName: 'Anna Berg', time: 'W. Europe Standard/Daylight Time', dst: 'by zone', lineIndex: '2', locale: null });
    const common = ciscoEnterprise.commonFiles!(s);
    expect(common.has(v.dialTemplate.toLowerCase()), 'the dial template is a served file').to.equal(true);
    expect(common.has(v.softKeyFile.toLowerCase()), 'the soft key file is a served file').to.equal(true);
    for (const [name, f] of common) expect(XMLValidator.validate(f.body), name).to.equal(true);
    expect(common.get('softkeys.xml')!.body).to.include('<softKeyCfg>');
    expect(common.get('ringlist-wb.xml')!.body).to.include('<CiscoIPPhoneRingList>');
  });

  it('names the zone as the phone knows it, from the offset and daylight saving of any IANA zone', () => {
    expect(ciscoZoneName(zoneRule('Europe/Vienna'))).to.equal('W. Europe Standard/Daylight Time');
    expect(ciscoZoneName(zoneRule('America/New_York'))).to.equal('Eastern Standard/Daylight Time');
    expect(ciscoZoneName(zoneRule('America/Phoenix'))).to.equal('US Mountain Standard Time');
    expect(ciscoZoneName(zoneRule('Asia/Kolkata'))).to.equal('India Standard Time');
    expect(ciscoZoneName(zoneRule('Australia/Sydney'))).to.equal('AUS Eastern Standard/Daylight Time');
  });
});

describe('vendor module: Cisco MPP (no daemon)', () => {
  it('reads model, firmware and MAC from its User-Agent, and takes <mac>.xml without one only as a shared path', () => {
    expect(ciscoMpp.agent('Cisco-CP-8841-3PCC/11.3.7_1234 (00562b043615)')).to.deep.equal({ model: 'CP-8841-3PCC', firmware: '11.3.7_1234', mac: '00562b043615' });
    expect(ciscoMpp.agent('Mozilla/5.0 (X11; Linux x86_64)')).to.equal(null);
    const ua = ciscoMpp.agent('Cisco-CP-8841-3PCC/11.3.7 (00562b043615)');
    expect(ciscoMpp.recognise(facts('/00562b043615.xml'), ua)).to.include({ kind: 'config', shared: false });
    expect(ciscoMpp.recognise(facts('/00562b043615.xml'), null)).to.include({ kind: 'config', shared: true });
    expect(ciscoMpp.configNeedsAgent).to.equal(true);
  });

  it('writes Time_Zone as GMT+hh:mm and the daylight-saving rule of the zone', () => {
    expect(mppTime(zoneRule('Europe/Berlin', 2026))).to.deep.equal({ Time_Zone: 'GMT+01:00', Daylight_Saving_Time_Enable: 'Yes', Daylight_Saving_Time_Rule: 'start=3/-1/7/2;end=10/-1/7/3;save=1' });
    expect(mppTime(zoneRule('America/New_York', 2026))).to.deep.equal({ Time_Zone: 'GMT-05:00', Daylight_Saving_Time_Enable: 'Yes', Daylight_Saving_Time_Rule: 'start=3/8/7/2;end=11/1/7/2;save=1' });
    expect(mppTime(zoneRule('Australia/Adelaide', 2026))).to.deep.equal({ Time_Zone: 'GMT+09:30', Daylight_Saving_Time_Enable: 'Yes', Daylight_Saving_Time_Rule: 'start=10/1/7/2;end=4/1/7/3;save=1' });
    expect(mppTime(zoneRule('Asia/Tokyo', 2026))).to.deep.equal({ Time_Zone: 'GMT+09:00', Daylight_Saving_Time_Enable: 'No' });
    expect(mppTime(zoneRule('UTC', 2026))).to.deep.equal({ Time_Zone: 'GMT+00:00', Daylight_Saving_Time_Enable: 'No' });
  });

  it('renders a flat profile with everything the line needs to register', async () => {
    const s = await moduleSettings({ language: 'fr' });
    const v = validate.ciscoMpp(ciscoMpp.render!(sampleLine(), s).body);
    expect(v).to.include({ registrar: 'pbx.example.test', port: '5060', transport: 'udp', user: '2042', authName: '2042', password: 'pw-Secret-1', displayName: 'Anna Berg', time: 'GMT+01:00', language: 'French' });
    expect(v.dst).to.match(/^start=3\/-?\d+\/7\/2;end=10\/-?\d+\/7\/3;save=1$/);
  });
});
