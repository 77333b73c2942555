import { expect } from 'chai';
import { evaluate, stateAt, type Schedule } from '../daemon/core/schedule.js';
import { parseSchedule } from '../daemon/core/auto-attendants.js';
import { isRefusal } from '../daemon/kernel/refusal.js';

const officeHours = { from: '08:00', to: '17:00' };
const weekdays = (timeZone: string, holidays: Schedule['holidays'] = []): Schedule => ({
  timeZone,
  weekly: { mon: [officeHours], tue: [officeHours], wed: [officeHours], thu: [officeHours], fri: [officeHours] },
  holidays,
});
const at = (iso: string) => new Date(iso);
const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;

describe('business hours: evaluate(schedule, at)', function () {
  const berlin = weekdays('Europe/Berlin');

  it('opens exactly at the opening minute and closes exactly at the closing minute', () => {
    // Wednesday 2026-06-10, Berlin is UTC+2 (CEST).
    expect(evaluate(berlin, at('2026-06-10T05:59:59.999Z'))).to.deep.include({ state: 'closed' });
    expect(iso(evaluate(berlin, at('2026-06-10T05:59:59.999Z')).nextChange)).to.equal('2026-06-10T06:00:00.000Z');
    const opening = evaluate(berlin, at('2026-06-10T06:00:00Z'));
    expect(opening.state).to.equal('open');
    expect(iso(opening.since)).to.equal('2026-06-10T06:00:00.000Z');
    expect(iso(opening.nextChange)).to.equal('2026-06-10T15:00:00.000Z');
    expect(evaluate(berlin, at('2026-06-10T14:59:59Z')).state).to.equal('open');
    const closing = evaluate(berlin, at('2026-06-10T15:00:00Z'));
    expect(closing.state).to.equal('closed');
    expect(iso(closing.since)).to.equal('2026-06-10T15:00:00.000Z');
    expect(iso(closing.nextChange), 'Thursday 08:00').to.equal('2026-06-11T06:00:00.000Z');
  });

  it('stays closed over the weekend: Friday 17:00 until Monday 08:00', () => {
    const saturday = evaluate(berlin, at('2026-06-13T10:00:00Z'));
    expect(saturday.state).to.equal('closed');
    expect(iso(saturday.since)).to.equal('2026-06-12T15:00:00.000Z');
    expect(iso(saturday.nextChange)).to.equal('2026-06-15T06:00:00.000Z');
  });

  it('reads the hours in the schedule’s own time zone', () => {
    const instant = at('2026-06-10T13:30:00Z'); // 15:30 Berlin, 09:30 New York, 22:30 Tokyo, 19:15 Kathmandu
    expect(evaluate(berlin, instant).state).to.equal('open');
    const ny = evaluate(weekdays('America/New_York'), instant);
    expect(ny.state).to.equal('open');
    expect(iso(ny.nextChange), '17:00 EDT').to.equal('2026-06-10T21:00:00.000Z');
    const tokyo = evaluate(weekdays('Asia/Tokyo'), instant);
    expect(tokyo.state).to.equal('closed');
    expect(iso(tokyo.nextChange), 'Thursday 08:00 JST').to.equal('2026-06-10T23:00:00.000Z');
    const kathmandu = evaluate(weekdays('Asia/Kathmandu'), instant);
    expect(kathmandu.state).to.equal('closed');
    expect(iso(kathmandu.nextChange), '08:00 at UTC+5:45').to.equal('2026-06-11T02:15:00.000Z');
  });

  it('crosses the spring daylight-saving change (Europe/Berlin, 2026-03-29): the weekend is an hour shorter', () => {
    const friday = evaluate(berlin, at('2026-03-27T15:59:59Z'));
    expect(iso(friday.nextChange), 'Friday 17:00 CET').to.equal('2026-03-27T16:00:00.000Z');
    const weekend = evaluate(berlin, at('2026-03-28T12:00:00Z'));
    expect(weekend.state).to.equal('closed');
    expect(iso(weekend.nextChange), 'Monday 08:00 CEST').to.equal('2026-03-30T06:00:00.000Z');
    expect((weekend.nextChange!.getTime() - weekend.since!.getTime()) / 3600_000).to.equal(62);
    expect(evaluate(berlin, at('2026-03-30T05:59:59Z')).state).to.equal('closed');
    expect(evaluate(berlin, at('2026-03-30T06:00:00Z')).state).to.equal('open');
  });

  it('crosses the autumn daylight-saving change (Europe/Berlin, 2026-10-25): the weekend is an hour longer', () => {
    const weekend = evaluate(berlin, at('2026-10-24T12:00:00Z'));
    expect(iso(weekend.since), 'Friday 17:00 CEST').to.equal('2026-10-23T15:00:00.000Z');
    expect(iso(weekend.nextChange), 'Monday 08:00 CET').to.equal('2026-10-26T07:00:00.000Z');
    expect((weekend.nextChange!.getTime() - weekend.since!.getTime()) / 3600_000).to.equal(64);
    expect(evaluate(berlin, at('2026-10-26T06:59:59Z')).state).to.equal('closed');
  });

  it('opens when the clocks jump past a start time that does not exist that night', () => {
    // 02:30 does not exist in Berlin on 2026-03-29: at 02:00 CET (01:00Z) clocks jump to 03:00 CEST.
    const night: Schedule = { timeZone: 'Europe/Berlin', weekly: { sun: [{ from: '02:30', to: '05:00' }] }, holidays: [] };
    const before = evaluate(night, at('2026-03-29T00:30:00Z'));
    expect(before.state).to.equal('closed');
    expect(iso(before.nextChange)).to.equal('2026-03-29T01:00:00.000Z');
    const after = evaluate(night, at('2026-03-29T01:00:00Z'));
    expect(after.state).to.equal('open');
    expect(iso(after.nextChange), '05:00 CEST').to.equal('2026-03-29T03:00:00.000Z');
  });

  it('follows the wall clock through the hour that repeats when clocks go back', () => {
    // Berlin 2026-10-25: 03:00 CEST (01:00Z) becomes 02:00 CET, so 02:00–02:59 happens twice.
    const night: Schedule = { timeZone: 'Europe/Berlin', weekly: { sun: [{ from: '00:00', to: '02:30' }] }, holidays: [] };
    const changes: string[] = [];
    let t = at('2026-10-24T21:00:00Z');
    for (let i = 0; i < 4; i++) {
      const e = evaluate(night, t);
      changes.push(`${e.state}→${iso(e.nextChange)}`);
      t = e.nextChange!;
    }
    expect(changes).to.deep.equal([
      'closed→2026-10-24T22:00:00.000Z', // Sunday 00:00 CEST
      'open→2026-10-25T00:30:00.000Z', // 02:30 CEST
      'closed→2026-10-25T01:00:00.000Z', // clocks go back to 02:00 CET
      'open→2026-10-25T01:30:00.000Z', // 02:30 CET
    ]);
  });

  it('is closed all day on a holiday and skips it when looking for the next opening', () => {
    const s = weekdays('Europe/Berlin', [{ date: '2026-12-24', name: 'Heiligabend' }, { date: '2026-12-25' }]);
    const eve = evaluate(s, at('2026-12-24T10:00:00Z'));
    expect(eve.state).to.equal('closed');
    expect(iso(eve.since), 'Wednesday 17:00').to.equal('2026-12-23T16:00:00.000Z');
    expect(iso(eve.nextChange), 'Monday 28th 08:00').to.equal('2026-12-28T07:00:00.000Z');
  });

  it('a round-the-clock attendant closes only on its holidays, at local midnight', () => {
    const allDay = [{ from: '00:00', to: '24:00' }];
    const s: Schedule = { timeZone: 'America/New_York', weekly: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay }, holidays: [{ date: '2026-07-04' }] };
    const e = evaluate(s, at('2026-07-01T12:00:00Z'));
    expect(e.state).to.equal('open');
    expect(iso(e.nextChange), 'July 4th 00:00 EDT').to.equal('2026-07-04T04:00:00.000Z');
    expect(iso(evaluate(s, at('2026-07-04T12:00:00Z')).nextChange)).to.equal('2026-07-05T04:00:00.000Z');
    expect(evaluate({ ...s, holidays: [] }, at('2026-07-01T12:00:00Z'))).to.deep.equal({ state: 'open', nextChange: null });
    expect(evaluate({ timeZone: 'UTC', weekly: {}, holidays: [] }, at('2026-07-01T12:00:00Z'))).to.deep.equal({ state: 'closed', nextChange: null });
  });

  it('agrees with itself around every change for a year in zones with odd rules', function () {
    // Lord Howe shifts by 30 minutes, Kathmandu is UTC+5:45, Santiago changes in the southern spring.
    const split: Schedule['weekly'] = { mon: [{ from: '00:30', to: '02:45' }, { from: '08:00', to: '12:00' }, { from: '13:00', to: '17:30' }], sat: [{ from: '01:45', to: '02:15' }], sun: [{ from: '02:00', to: '03:00' }] };
    for (const timeZone of ['Australia/Lord_Howe', 'Asia/Kathmandu', 'America/Santiago']) {
      const s: Schedule = { timeZone, weekly: split, holidays: [{ date: '2026-05-04' }] };
      let t = at('2026-01-01T00:00:00Z');
      let steps = 0;
      while (t < at('2027-01-01T00:00:00Z')) {
        const e = evaluate(s, t);
        const next = e.nextChange!;
        expect(next.getTime(), `${timeZone} ${iso(t)}`).to.be.greaterThan(t.getTime());
        expect(stateAt(s, next.getTime() - 1), `${timeZone} just before ${iso(next)}`).to.equal(e.state);
        expect(stateAt(s, next), `${timeZone} at ${iso(next)}`).to.not.equal(e.state);
        // Halfway to the change, the answer is the same change (searched afresh: a schedule that differs
        // only by a long-past holiday is not in the memo of next changes).
        const same = { ...s, holidays: [...s.holidays, { date: '2000-01-01' }] };
        expect(iso(evaluate(same, new Date((t.getTime() + next.getTime()) / 2)).nextChange)).to.equal(iso(next));
        t = next;
        steps++;
      }
      expect(steps, timeZone).to.be.greaterThan(300);
    }
  });
});

describe('business hours: what a schedule may be', function () {
  const refusalOf = (raw: unknown) => {
    try {
      parseSchedule(raw);
    } catch (e) {
      if (isRefusal(e)) return e;
      throw e;
    }
    throw new Error('accepted');
  };

  it('refuses an unknown time zone, hours that end before they start, and impossible dates', () => {
    expect(refusalOf({ timeZone: 'Europe/Atlantis', weekly: {} }).details).to.deep.include({ field: 'timeZone' });
    const backwards = refusalOf({ timeZone: 'Europe/Berlin', weekly: { mon: [{ from: '17:00', to: '08:00' }] } });
    expect(backwards.code).to.equal('AA_SCHEDULE_INVALID');
    expect(backwards.status).to.equal(400);
    expect(backwards.text.en).to.contain('opens at 17:00 but closes at 08:00');
    expect(refusalOf({ timeZone: 'UTC', weekly: { monday: [] } }).details).to.deep.include({ field: 'weekly.monday' });
    expect(refusalOf({ timeZone: 'UTC', weekly: { mon: [{ from: '8:00', to: '24:00' }] } }).code).to.equal('AA_SCHEDULE_INVALID');
    expect(refusalOf({ timeZone: 'UTC', holidays: ['2026-02-30'] }).details).to.deep.include({ field: 'holidays[0]' });
  });

  it('accepts holidays as plain dates or with a name', () => {
    expect(parseSchedule({ timeZone: 'Europe/Berlin', weekly: { fri: [{ from: '08:00', to: '24:00' }] }, holidays: ['2026-12-25', { date: '2026-12-26', name: '2. Weihnachtstag' }] })).to.deep.equal({
      timeZone: 'Europe/Berlin',
      weekly: { fri: [{ from: '08:00', to: '24:00' }] },
      holidays: [{ date: '2026-12-25' }, { date: '2026-12-26', name: '2. Weihnachtstag' }],
    });
  });
});
