import { expect } from 'chai';
import '../daemon/main.js'; // every feature's catalogue registers itself on import
import { refusalCodes, refusalOf } from '../daemon/kernel/refusal.js';
import { TestDaemon } from './support/daemon.js';
import { foreignWords } from './support/i18n.js';

/**
 * Every refusal is written entirely in its language: the German text has no
 * English fragment and the English none German. Values (names, codes, numbers)
 * are quoted or code-like and do not count.
 */
/** A stand-in for any details value: a string, a number, a list or an object, whatever the text makes of it. */
function anything(): any {
  return new Proxy(function () {}, {
    get(_t, p) {
      if (p === Symbol.toPrimitive) return (hint: string) => (hint === 'number' ? 7 : 'X7');
      if (p === 'toString' || p === 'valueOf') return () => 'X7';
      if (p === 'length') return 1;
      if (p === 'map' || p === 'flatMap') return (fn: (v: unknown, i: number) => unknown) => [fn(anything(), 0)];
      if (p === 'filter' || p === 'slice') return () => [anything()];
      if (p === 'join') return () => 'X7';
      if (p === Symbol.iterator) return function* () { yield anything(); };
      if (typeof p === 'symbol') return undefined;
      return anything();
    },
    apply: () => 'X7',
  });
}

describe('refusal texts: one language at a time', function () {
  this.timeout(30_000);

  it('finds the mixed-language texts it is meant to find', () => {
    expect(foreignWords('User "anna" existiert bereits.', 'de')).to.deep.equal(['user']);
    expect(foreignWords('A staged license existiert nicht.', 'de')).to.include.members(['staged', 'license']);
    expect(foreignWords('Der Benutzer "anna" existiert bereits.', 'de')).to.deep.equal([]);
    expect(foreignWords('User anna ist gesperrt.', 'en')).to.deep.equal(['ist']);
  });

  it('has no English in a German text and no German in an English one, in every catalogue', () => {
    const codes = refusalCodes();
    expect(codes.length, 'every feature catalogue is loaded').to.be.above(80);
    const mixed: string[] = [];
    for (const code of codes) {
      const r = refusalOf(code, anything());
      for (const [part, text] of [['text', r.text], ['remedy', r.remedy]] as const) {
        const de = foreignWords(text.de, 'de');
        const en = foreignWords(text.en, 'en');
        if (de.length) mixed.push(`${code} ${part}.de: ${JSON.stringify(text.de)} (${de.join(', ')})`);
        if (en.length) mixed.push(`${code} ${part}.en: ${JSON.stringify(text.en)} (${en.join(', ')})`);
      }
    }
    expect(mixed, mixed.join('\n')).to.deep.equal([]);
  });

  it('renders the English phrases of callers in German or leaves them out', () => {
    expect(refusalOf('REQ_CONFLICT', { what: 'User anna' }).text).to.deep.equal({ en: 'User "anna" already exists.', de: 'Der Benutzer "anna" existiert bereits.' });
    expect(refusalOf('REQ_NOT_FOUND', { what: 'A staged license' }).text.de).to.equal('Eine bereitgestellte Lizenz existiert nicht.');
    expect(refusalOf('REQ_INVALID', { field: 'limit', problem: 'must be a whole number 1..10000' }).text.de).to.equal('Ungültige Angabe im Feld "limit": eine ganze Zahl von 1 bis 10000.');
    expect(refusalOf('REQ_INVALID', { field: 'x', problem: 'some phrase nobody translated' }).text.de).to.equal('Ungültige Angabe im Feld "x".');
    expect(refusalOf('LIC_MALFORMED', { reason: 'some parser message' }).text.de).to.equal('Dies ist keine pbxd-Lizenzdatei.');
  });

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
