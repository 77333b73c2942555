import { expect } from 'chai';
import { readPayload, type LicensePayload } from '../daemon/licensing/format.js';
import { checkDates, codeChanges, modeAt, quotasIn } from '../daemon/licensing/modes.js';
import { isRefusal } from '../daemon/kernel/refusal.js';

/** The mode and quota rules of licensing, judged from their arguments alone (no daemon, no database). */
const payload = (over: Partial<LicensePayload> = {}): LicensePayload =>
  readPayload({
    format: 1, licenseId: 'L-1', edition: 'Standard', trial: false, kind: 'final',
    operator: { company: 'Op GmbH' }, systemId: 'S-1',
    issuedAt: '2026-01-01T00:00:00Z', validFrom: '2026-01-01T00:00:00Z', expiresAt: '2026-06-01T00:00:00Z',
    updateServiceUntil: '2027-01-01T00:00:00Z', quantities: { users: 50, 'devices.cisco': 10 }, perUser: { clientbundle: 20 },
    ...over,
  });
const at = (iso: string) => new Date(iso);

describe('license modes and quotas (no daemon)', () => {
  it('moves Licensed → Grace (counting days down) → Entry as time passes expiry', () => {
    const installed = { payload: payload(), invalid: null };
    expect(modeAt(installed, null, 14, at('2026-05-31T23:00:00Z')).mode).to.equal('licensed');
    const grace = modeAt(installed, null, 14, at('2026-06-02T00:00:00Z'));
    expect([grace.mode, grace.graceDaysLeft, grace.graceEndsAt]).to.deep.equal(['grace', 13, '2026-06-15T00:00:00.000Z']);
    const entry = modeAt(installed, null, 14, at('2026-06-15T00:00:00Z'));
    expect([entry.mode, entry.reason.code]).to.deep.equal(['entry', 'MODE_LICENSE_EXPIRED']);
  });

  it('says why it is in Entry: no license, an invalid one, one not yet valid, data of another appliance', () => {
    const now = at('2026-03-01T00:00:00Z');
    expect(modeAt(null, null, 14, now).reason.code).to.equal('MODE_NO_LICENSE');
    expect(modeAt({ payload: payload(), invalid: { code: 'LIC_SIGNATURE', en: 'bad', de: 'schlecht' } }, null, 14, now).reason.code).to.equal('MODE_LICENSE_INVALID');
    expect(modeAt({ payload: payload({ validFrom: '2026-04-01T00:00:00Z' }), invalid: null }, null, 14, now).reason.code).to.equal('MODE_NOT_YET_VALID');
    const foreign = modeAt({ payload: payload(), invalid: null }, { dataSystemId: 'OLD', systemId: 'NEW' }, 14, now);
    expect([foreign.mode, foreign.reason.code]).to.deep.equal(['entry', 'MODE_FOREIGN_DATA']);
    expect(foreign.reason.en).to.contain('OLD').and.to.contain('NEW');
  });

  it('grants the license in Licensed and Grace, five users and no per-user codes in Entry', () => {
    expect(quotasIn('grace', payload())).to.deep.include({ quantities: { users: 50, 'devices.cisco': 10 } });
    const entry = quotasIn('entry', payload());
    expect({ ...entry.quantities }).to.deep.equal({ users: 5 });
    expect({ ...entry.perUser }).to.deep.equal({ clientbundle: 0 });
  });

  it('lists per code what a new file changes and how many must go, codes in use but not in the file included', () => {
    const changes = codeChanges(quotasIn('licensed', payload()), payload({ quantities: { users: 30 }, perUser: { clientbundle: 5 } }), { users: 40, 'devices.cisco': 3, clientbundle: 8 }, null);
    const byCode = Object.fromEntries(changes.map((c) => [c.code, [c.scope, c.old, c.new, c.toRemove]]));
    expect(byCode).to.deep.equal({ users: ['server', 50, 30, 10], 'devices.cisco': ['server', 10, 0, 3], clientbundle: ['user', 20, 5, 3] });
  });

  it('refuses a file whose grace has ended, and one not yet valid unless a later start is allowed', () => {
    const refusalOf = (f: () => void) => {
      try {
        f();
        return null;
      } catch (e) {
        return isRefusal(e) ? e.code : String(e);
      }
    };
    expect(refusalOf(() => checkDates(payload(), at('2026-06-20T00:00:00Z'), 14))).to.equal('LIC_EXPIRED');
    expect(refusalOf(() => checkDates(payload(), at('2026-06-10T00:00:00Z'), 14))).to.equal(null);
    const later = payload({ validFrom: '2026-04-01T00:00:00Z' });
    expect(refusalOf(() => checkDates(later, at('2026-03-01T00:00:00Z'), 14))).to.equal('LIC_NOT_YET_VALID');
    expect(refusalOf(() => checkDates(later, at('2026-03-01T00:00:00Z'), 14, true))).to.equal(null);
  });
});
