import { expect } from 'chai';
import { TestDaemon } from './support/daemon.js';
import { foreignWords } from './support/i18n.js';

/** The catalogue itself is checked in unit-refusals.test.ts; here, the texts as the API sends them. */
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
  });
});
