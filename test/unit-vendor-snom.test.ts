import { expect } from 'chai';
import { XMLParser } from 'fast-xml-parser';
import { snom, snomTime } from '../provisioning/vendors/snom.js';
import { zoneRule } from '../provisioning/time-zone.js';
import { facts, moduleSettings, sampleLine, validate } from './support/provisioning.js';

describe('vendor module: Snom M700/M900 (no daemon)', () => {
  const UA = 'Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)';

  it('reads the real User-Agent of a base and the older form', () => {
    expect(snom.agent(UA)).to.deep.equal({ model: 'M900', firmware: '05.20.0001', mac: '000413b60680' });
    expect(snom.agent('Snom-M700/06.50.0001 (000413aabbcc)')).to.deep.equal({ model: 'M700', firmware: '06.50.0001', mac: '000413aabbcc' });
    expect(snom.agent('Mozilla/5.0 (Windows NT 10.0)')).to.equal(null);
  });

  it('knows the files a base asks for: snomM900.htm, snomM900-<MAC>.htm, <MAC>.xml and ?mac=', () => {
    const ua = snom.agent(UA);
    expect(snom.recognise(facts('/snomM900.htm'), ua)).to.include({ kind: 'index', mac: '000413b60680' });
    expect(snom.recognise(facts('/snomM900.htm?mac=000413B60681'), null)).to.include({ kind: 'index', mac: '000413B60681' });
    expect(snom.recognise(facts('/snomM900.htm'), null)).to.include({ kind: 'index', mac: null });
    expect(snom.recognise(facts('/snomM900-000413B60680.htm'), ua)).to.include({ kind: 'index', mac: '000413B60680' });
    expect(snom.recognise(facts('/000413B60680.xml'), ua)).to.include({ kind: 'config', mac: '000413B60680', shared: false });
  });

  it('names <MAC>.xml in its index files and renders <settings><phone-settings> with the handset subscription', async () => {
    const s = await moduleSettings();
    const index = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(snom.renderIndex!('snomm900.htm', '000413b60680', s)!.body);
    expect(index['setting-files'].file.url).to.equal('http://pbx.example.test:6970/000413B60680.xml');
    const v = validate.snom(snom.render!(sampleLine({ line: 2 }), s).body, 2);
    expect(v).to.include({ registrar: 'pbx.example.test', port: '5060', transport: 'udp', user: '2042', authName: '2042', password: 'pw-Secret-1', displayName: 'Anna Berg', time: '3600', language: 'Deutsch', accessCode: '2042', handset: '2' });
    expect(snomTime(zoneRule('Europe/Berlin', 2026))).to.deep.equal({ utc_offset: '3600', dst: '3600 03.05.07 02:00:00 10.05.07 03:00:00' });
    expect(snomTime(zoneRule('America/Sao_Paulo', 2026))).to.deep.equal({ utc_offset: '-10800', dst: '' });
  });
});
