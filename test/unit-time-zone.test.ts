import { expect } from 'chai';
import { hhmm, hours, inDaylightTime, isKnownZone, isoWeekday, offsetAt, zoneRule } from '../provisioning/time-zone.js';

/** The zone rules the phones are configured with, read off the runtime's time zone database. */
describe('time-zone rules (no daemon)', () => {
  it('gives the offset from UTC at an instant, in winter and in summer', () => {
    expect(offsetAt('Europe/Berlin', Date.UTC(2026, 0, 15))).to.equal(60);
    expect(offsetAt('Europe/Berlin', Date.UTC(2026, 6, 15))).to.equal(120);
    expect(offsetAt('America/New_York', Date.UTC(2026, 0, 15))).to.equal(-300);
    expect(offsetAt('Asia/Kolkata', Date.UTC(2026, 6, 15))).to.equal(330);
    expect(offsetAt('UTC', Date.UTC(2026, 6, 15))).to.equal(0);
  });

  it('states Berlin as the vendors do: last Sunday of March 02:00 to last Sunday of October 03:00', () => {
    const rule = zoneRule('Europe/Berlin', 2026);
    expect(rule.offset).to.equal(60);
    expect(rule.dst?.save).to.equal(60);
    expect(rule.dst?.start).to.deep.equal({ month: 3, week: 5, weekday: 0, day: 29, minutes: 120 });
    expect(rule.dst?.end).to.deep.equal({ month: 10, week: 5, weekday: 0, day: 25, minutes: 180 });
    expect(isoWeekday(rule.dst!.start)).to.equal(7);
  });

  it('states New York as the second Sunday of March to the first Sunday of November', () => {
    const rule = zoneRule('America/New_York', 2026);
    expect(rule.offset).to.equal(-300);
    expect(rule.dst?.start).to.deep.include({ month: 3, week: 2, weekday: 0, minutes: 120 });
    expect(rule.dst?.end).to.deep.include({ month: 11, week: 1, weekday: 0, minutes: 120 });
  });

  it('starts daylight saving in October south of the equator', () => {
    const rule = zoneRule('Australia/Sydney', 2026);
    expect(rule.offset).to.equal(600);
    expect(rule.dst?.start).to.deep.include({ month: 10, week: 1, weekday: 0 });
    expect(rule.dst?.end).to.deep.include({ month: 4, week: 1, weekday: 0 });
    expect(inDaylightTime(rule, Date.UTC(2026, 0, 15))).to.equal(true);
    expect(inDaylightTime(rule, Date.UTC(2026, 6, 15))).to.equal(false);
  });

  it('has no daylight saving where the clock never changes', () => {
    const rule = zoneRule('Asia/Kolkata', 2026);
    expect(rule).to.deep.equal({ name: 'Asia/Kolkata', offset: 330, dst: null });
    expect(inDaylightTime(rule, Date.UTC(2026, 6, 15))).to.equal(false);
  });

  it('knows the zones the runtime knows and refuses others', () => {
    expect(isKnownZone('Europe/Vienna')).to.equal(true);
    expect(isKnownZone('Mars/Olympus_Mons')).to.equal(false);
    expect(() => zoneRule('Mars/Olympus_Mons', 2026)).to.throw(RangeError);
  });

  it('writes offsets as the vendors take them', () => {
    expect(hhmm(60)).to.equal('+01:00');
    expect(hhmm(-330)).to.equal('-05:30');
    expect(hhmm(0)).to.equal('+00:00');
    expect(hours(-300)).to.equal('-5');
    expect(hours(330)).to.equal('5.5');
  });
});
