import { expect } from 'chai';
import { gigaset } from '../provisioning/vendors/gigaset.js';
import { moduleSettings, sampleLine, validate } from './support/provisioning.js';

describe('vendor module: Gigaset (no daemon)', () => {
  it('reads its User-Agent forms, with or without MAC and quotes', () => {
    expect(gigaset.agent('Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605')).to.deep.equal({ model: 'N870 IP PRO', firmware: '83.V2.11.0+build.a546b91', mac: '7C2F80E0D605' });
    expect(gigaset.agent('"Gigaset N670 IP PRO/83.V2.48.0;7C2F80E0D606"')).to.include({ model: 'N670 IP PRO', mac: '7C2F80E0D606' });
    expect(gigaset.agent('Gigaset N870 IP PRO/83.V2.11.0')).to.include({ mac: null });
    expect(gigaset.agent('Yealink W70B 146.85.0.20')).to.equal(null);
  });

  it('renders nvm parameters with the registrar, the handset subscription and its four-digit access code', async () => {
    const s = await moduleSettings();
    const v = validate.gigaset(gigaset.render!(sampleLine({ line: 3, sipUser: '42' }), s).body, 3);
    expect(v).to.include({ registrar: 'pbx.example.test', port: '5060', transport: 'udp', user: '42', authName: '42', password: 'pw-Secret-1', displayName: 'Anna Berg', time: 'Europe/Berlin', language: 'de', accessCode: '0042' });
  });
});
