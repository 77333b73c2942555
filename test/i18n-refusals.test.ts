import { expect } from 'chai';
import { TestDaemon } from './support/daemon.js';
import { foreignWords } from './support/i18n.js';

/** The refusal catalogue itself is checked in unit-refusals.test.ts; here, the texts as the API sends them, and the daemon's message catalogue. */
describe('refusal texts: one language at a time', function () {
  this.timeout(30_000);

  describe('as the API sends them', () => {
    let d: TestDaemon;
    before(async () => {
      d = await TestDaemon.start();
    });
    after(async () => d.dispose());

    it('a duplicate user, a missing staged license, a bad query: German without English', async () => {
      const body = { userName: 'anna', firstName: 'Anna', lastName: 'Berg' };
      expect((await d.request('POST', '/api/v1/users', { body })).status).to.equal(201);
      const dup = await d.request('POST', '/api/v1/users', { body });
      const staged = await d.request('GET', '/api/v1/license/staged');
      const bad = await d.request('GET', '/api/v1/users?limit=abc');
      const missing = await d.request('GET', '/api/v1/users/bert');
      for (const r of [dup, staged, bad, missing]) {
        expect(r.status).to.be.within(400, 499);
        expect(foreignWords(r.json.error.text.de, 'de'), r.json.error.text.de).to.deep.equal([]);
        expect(foreignWords(r.json.error.remedy.de, 'de'), r.json.error.remedy.de).to.deep.equal([]);
      }
      expect(dup.json.error.text.de).to.equal('Der Benutzer "anna" existiert bereits.');
      expect(missing.json.error.text.de).to.equal('Der Benutzer "bert" existiert nicht.');
    });

    it('every message the daemon words (outcomes, alerts, job results, audit) has both texts, none of them mixed', async () => {
      // The catalogue as the running daemon has it, every feature loaded: what it serves the web UI as msg.CODE.
      const served = async (lang: string) => (await d.request('GET', `/i18n/${lang}.json`, { auth: false })).json as Record<string, string>;
      const messages = (texts: Record<string, string>) => Object.fromEntries(Object.entries(texts).filter(([k]) => k.startsWith('msg.')));
      const en = messages(await served('en'));
      const de = messages(await served('de'));
      expect(Object.keys(de).sort()).to.deep.equal(Object.keys(en).sort());
      for (const code of ['msg.served.licensed', 'msg.alert.browser', 'msg.backup.made', 'msg.expiry.mode', 'msg.audit.action.user.register']) expect(en, code).to.have.property(code);
      const filled = (template: string) => template.replace(/\{\w+\}/g, '7');
      for (const code of Object.keys(en)) {
        expect(de[code], code).to.be.a('string').and.not.equal('');
        expect(foreignWords(filled(de[code]!), 'de'), `${code}.de: ${de[code]}`).to.deep.equal([]);
        expect(foreignWords(filled(en[code]!), 'en'), `${code}.en: ${en[code]}`).to.deep.equal([]);
      }
    });
  });
});
