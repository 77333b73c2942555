import { expect } from 'chai';
import { TestDaemon, type Reply } from './support/daemon.js';
import { eventually } from './support/eventually.js';
import { attendantBody, auditActions, RESOURCES_LICENSE } from './support/resources.js';
import { evaluate, parseSchedule } from '../daemon/core/auto-attendants.js';

const PASSWORDS = ['Trunk-Pa55word-Alpha', 'Trunk-Pa55word-Beta', 'Trunk-Pa55word-Changed', 'Trunk-Pa55word-Cli'];

describe('auto attendants and SIP trunks (counted resources from the license)', function () {
  let d: TestDaemon;
  /** Every response body the tests saw, to show that no trunk password ever comes back. */
  const seen: string[] = [];
  const call = async (method: string, path: string, body?: unknown): Promise<Reply> => {
    const r = await d.request(method, path, body === undefined ? {} : { body });
    seen.push(r.text);
    return r;
  };
  const codeLine = async (code: string) => (await call('GET', '/api/v1/status')).json.codes.find((c: { code: string }) => c.code === code);

  before(async () => {
    d = await TestDaemon.start();
    await d.installLicense(RESOURCES_LICENSE);
  });
  after(async () => d.dispose());

  it('creates auto attendants up to the license, then refuses with the count and changes nothing', async () => {
    expect(await codeLine('autoattendants')).to.include({ used: 0, total: 2 });
    const first = await call('POST', '/api/v1/auto-attendants', attendantBody('Zentrale', ['+495311230']));
    expect(first.status, first.text).to.equal(201);
    expect(first.json).to.include({ name: 'Zentrale' });
    expect(first.json.state).to.be.oneOf(['open', 'closed']);
    expect(first.json.nextChange).to.be.a('string');
    expect((await call('POST', '/api/v1/auto-attendants', attendantBody('Support', ['+495311231', '201']))).status).to.equal(201);

    const third = await call('POST', '/api/v1/auto-attendants', attendantBody('Vertrieb', ['+495311232']));
    expect(third.status).to.equal(409);
    expect(third.json.error.code).to.equal('AA_LIMIT_REACHED');
    expect(third.json.error.message).to.equal('2 of 2 auto attendants in use.');
    expect(third.json.error.text.de).to.equal('2 von 2 automatischen Vermittlungen in Verwendung.');

    const list = await call('GET', '/api/v1/auto-attendants');
    expect(list.json).to.include({ used: 2, total: 2 });
    expect(list.json.autoAttendants.map((a: { name: string }) => a.name)).to.deep.equal(['Support', 'Zentrale']);
    expect(await codeLine('autoattendants')).to.include({ used: 2, total: 2 });
    expect((await auditActions(d, 'autoattendant.create')).map((e) => e.subject)).to.have.members(['Zentrale', 'Support']);
  });

  it('refuses bad attendants with a clear reason: invalid hours, a number already in use, a duplicate name', async () => {
    await call('DELETE', '/api/v1/auto-attendants/Support');
    const backwards = attendantBody('Nacht', ['+495311239']);
    backwards.schedule.weekly.mon = [{ from: '22:00', to: '06:00' }];
    const bad = await call('POST', '/api/v1/auto-attendants', backwards);
    expect(bad.status).to.equal(400);
    expect(bad.json.error.code).to.equal('AA_SCHEDULE_INVALID');
    const zone = await call('POST', '/api/v1/auto-attendants', attendantBody('Nacht', ['+495311239'], 'Mars/Olympus'));
    expect(zone.json.error).to.include({ code: 'AA_SCHEDULE_INVALID' });
    const taken = await call('POST', '/api/v1/auto-attendants', attendantBody('Nacht', ['+495311230']));
    expect(taken.status).to.equal(409);
    expect(taken.json.error.code).to.equal('AA_NUMBER_TAKEN');
    expect(taken.json.error.message).to.contain('"Zentrale"');
    const dup = await call('POST', '/api/v1/auto-attendants', attendantBody('zentrale', ['+495311238']));
    expect(dup.json.error.code).to.equal('REQ_CONFLICT');
    expect((await call('GET', '/api/v1/auto-attendants')).json.used, 'nothing was created').to.equal(1);
  });

  it('lets exactly one of many concurrent creates take the last auto attendant license', async () => {
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => call('POST', '/api/v1/auto-attendants', attendantBody(`Race ${i}`, [`+49531999${i}`]))));
    expect(replies.filter((r) => r.status === 201)).to.have.length(1);
    expect(replies.filter((r) => r.status === 409).every((r) => r.json.error.code === 'AA_LIMIT_REACHED')).to.equal(true);
    expect((await call('GET', '/api/v1/auto-attendants')).json.used).to.equal(2);
    const winner = replies.find((r) => r.status === 201)!.json.name;
    expect((await call('DELETE', `/api/v1/auto-attendants/${encodeURIComponent(winner)}`)).status).to.equal(204);
  });

  it('switches open at the opening minute by itself, and re-evaluates when the clock moves', async () => {
    // Wednesday 2026-12-02, Berlin (UTC+1): opens 08:00 = 07:00Z. Set the clock 1.5 s before.
    await d.setClock(new Date('2026-12-02T06:59:58.500Z'));
    await eventually(async () => expect((await call('GET', '/api/v1/auto-attendants/Zentrale')).json.state).to.equal('closed'));
    const open = await eventually(async () => {
      const r = await call('GET', '/api/v1/auto-attendants/Zentrale');
      expect(r.json.state).to.equal('open');
      return r.json;
    });
    expect(open.since).to.equal('2026-12-02T07:00:00.000Z');
    expect(open.nextChange, '17:00 CET').to.equal('2026-12-02T16:00:00.000Z');
    const switches = await auditActions(d, 'autoattendant.switch');
    expect(switches[0]).to.deep.include({ actor: 'scheduler', subject: 'Zentrale', details: { state: 'open', at: '2026-12-02T07:00:00.000Z' } });
    expect(d.output.some((l) => l.includes('auto attendant switched') && l.includes('name=Zentrale') && l.includes('state=open'))).to.equal(true);
    const job = (await call('GET', '/api/v1/jobs')).json.jobs.find((j: { name: string }) => j.name === 'autoAttendants');
    expect(job).to.deep.include({ schedule: '* * * * *', enabled: true });
    expect(job.lastRun.ok).to.equal(true);

    // Jump to Christmas Eve (a holiday, Thursday): closed since midnight local time.
    await d.setClock(new Date('2026-12-24T10:00:00Z'));
    const closed = await eventually(async () => {
      const r = await call('GET', '/api/v1/auto-attendants/Zentrale');
      expect(r.json.state).to.equal('closed');
      return r.json;
    });
    expect(closed.since, 'Wednesday 23rd 17:00 CET').to.equal('2026-12-23T16:00:00.000Z');
    expect(closed.nextChange, 'Friday 25th 08:00 CET').to.equal('2026-12-25T07:00:00.000Z');

    // Set back (the trusted clock of license decisions never goes back; business hours follow the clock as set).
    await d.setClock(new Date('2026-12-02T10:00:00Z'));
    await eventually(async () => expect((await call('GET', '/api/v1/auto-attendants/Zentrale')).json).to.include({ state: 'open', since: '2026-12-02T07:00:00.000Z' }));
    await d.request('PUT', '/api/v1/dev/clock', { body: { offsetMs: 0 } });
  });

  it('an edited schedule takes effect at once', async () => {
    const allDay = [{ from: '00:00', to: '24:00' }];
    const r = await call('PATCH', '/api/v1/auto-attendants/Zentrale', { schedule: { timeZone: 'Asia/Tokyo', weekly: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay } } });
    expect(r.status, r.text).to.equal(200);
    expect(r.json).to.include({ state: 'open', nextChange: null });
    expect(r.json.schedule.timeZone).to.equal('Asia/Tokyo');
    expect((await auditActions(d, 'autoattendant.update'))[0]).to.deep.include({ subject: 'Zentrale', details: { changed: ['schedule'] } });
  });

  it('keeps the sum of trunk channels within the license and never shows a trunk password', async () => {
    const a = await call('POST', '/api/v1/sip-trunks', { name: 'Carrier A', registrar: 'sip.carrier-a.example:5060', username: 'pbx-a', password: PASSWORDS[0], channels: 20 });
    expect(a.status, a.text).to.equal(201);
    expect(a.json).to.deep.include({ name: 'Carrier A', registrar: 'sip.carrier-a.example:5060', username: 'pbx-a', passwordSet: true, channels: 20 });
    expect(a.json).to.not.have.property('password');
    expect((await call('POST', '/api/v1/sip-trunks', { name: 'Carrier B', registrar: 'sips:sip.carrier-b.example', username: 'pbx-b', password: PASSWORDS[1], channels: 10 })).status).to.equal(201);

    const over = await call('POST', '/api/v1/sip-trunks', { name: 'Carrier C', registrar: 'sip.c.example', username: 'c', password: 'x-password-c', channels: 1 });
    expect(over.status).to.equal(409);
    expect(over.json.error.code).to.equal('TRUNK_CHANNELS_EXCEEDED');
    expect(over.json.error.message).to.equal('Trunk "Carrier C" needs 1 channels, but 30 of 30 SIP trunk channels are configured on other trunks (0 free).');
    const raise = await call('PATCH', '/api/v1/sip-trunks/Carrier%20B', { channels: 11 });
    expect(raise.json.error).to.include({ code: 'TRUNK_CHANNELS_EXCEEDED' });
    expect(raise.json.error.details).to.include({ requested: 11, configuredElsewhere: 20, total: 30, free: 10 });

    const changed = await call('PATCH', '/api/v1/sip-trunks/Carrier%20A', { channels: 15, password: PASSWORDS[2] });
    expect(changed.status).to.equal(200);
    expect(changed.json).to.include({ channels: 15, passwordSet: true });
    const list = await call('GET', '/api/v1/sip-trunks');
    expect(list.json.channels).to.deep.equal({ used: 25, total: 30 });
    expect(await codeLine('trunkchannels')).to.include({ used: 25, total: 30 });
    expect((await call('POST', '/api/v1/sip-trunks', { name: 'Bad', registrar: 'not a host!', username: 'u', password: 'p', channels: 1 })).json.error).to.include({ code: 'REQ_INVALID' });
    const audit = await auditActions(d, 'siptrunk.');
    expect(audit.find((e) => e.action === 'siptrunk.update')!.details).to.deep.include({ changed: ['password', 'channels'], channels: '20→15' });
  });

  it('never lets 20 concurrent trunk edits and creates racing for the last 5 channels exceed the total', async () => {
    // Start from 25 of 30: Carrier A 15 plus ten one-channel trunks; then 20 requests each want one more.
    await call('DELETE', '/api/v1/sip-trunks/Carrier%20B');
    for (let i = 0; i < 10; i++) expect((await call('POST', '/api/v1/sip-trunks', { name: `Edit ${i}`, registrar: 'sip.example', username: `e${i}`, password: `pw-edit-${i}`, channels: 1 })).status).to.equal(201);
    const racing = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => call('PATCH', `/api/v1/sip-trunks/Edit%20${i}`, { channels: 2 })),
      ...Array.from({ length: 10 }, (_, i) => call('POST', '/api/v1/sip-trunks', { name: `New ${i}`, registrar: 'sip.example', username: `n${i}`, password: `pw-new-${i}`, channels: 1 })),
    ]);
    const ok = racing.filter((r) => r.status === 200 || r.status === 201);
    const refused = racing.filter((r) => r.status === 409);
    expect(ok, 'exactly the 5 free channels are handed out').to.have.length(5);
    expect(refused).to.have.length(15);
    expect(refused.every((r) => r.json.error.code === 'TRUNK_CHANNELS_EXCEEDED')).to.equal(true);
    const list = (await call('GET', '/api/v1/sip-trunks')).json;
    expect(list.channels).to.deep.equal({ used: 30, total: 30 });
    expect(list.trunks.reduce((s: number, t: { channels: number }) => s + t.channels, 0)).to.equal(30);
  });

  it('manages attendants and trunks with pbxctl, in text and --json; a trunk password is read from standard input', async () => {
    const aa = await d.ctl(['aa', 'list', '--json']);
    expect(aa.code, aa.stderr).to.equal(0);
    expect(JSON.parse(aa.stdout)).to.include({ used: 1, total: 2 });
    expect((await d.ctl(['aa', 'list'])).stdout).to.contain('Auto attendants: 1 of 2 licensed in use').and.contain('Zentrale');
    await call('PATCH', '/api/v1/sip-trunks/Carrier%20A', { channels: 14 });
    const add = await d.ctl(['trunks', 'add', 'Cli Trunk', '--registrar', 'sip.cli.example', '--username', 'cli', '--channels', '1', '--json'], PASSWORDS[3] + '\n');
    expect(add.code, add.stdout + add.stderr).to.equal(0);
    expect(JSON.parse(add.stdout)).to.include({ name: 'Cli Trunk', passwordSet: true, channels: 1 });
    const full = await d.ctl(['trunks', 'add', 'One More', '--registrar', 'sip.cli.example', '--username', 'x', '--channels', '1'], 'pw\n');
    expect(full.code).to.equal(1);
    expect(full.stderr).to.contain('TRUNK_CHANNELS_EXCEEDED');
    const list = await d.ctl(['trunks', 'list']);
    expect(list.stdout).to.contain('SIP trunk channels: 30 of 30 licensed configured').and.contain('Cli Trunk');
    seen.push(aa.stdout, add.stdout, list.stdout, (await d.ctl(['trunks', 'list', '--json'])).stdout);

    const created = await d.ctl(['aa', 'add', '--file', '-', '--json'], JSON.stringify(attendantBody('Cli', ['+495311250'])));
    expect(created.code, created.stdout + created.stderr).to.equal(0);
    expect(JSON.parse(created.stdout)).to.include({ name: 'Cli' });
    const renamed = await d.ctl(['aa', 'set', 'Cli', '--file', '-'], JSON.stringify({ name: 'Cli 2', numbers: ['+495311251'] }));
    expect(renamed.stdout).to.contain('auto attendant Cli 2 changed');
    expect(JSON.parse((await d.ctl(['aa', 'show', 'Cli 2', '--json'])).stdout).numbers).to.deep.equal(['+495311251']);
    expect((await d.ctl(['aa', 'delete', 'Cli 2'])).stdout).to.contain('deleted');
    const gone = await d.ctl(['aa', 'show', 'Cli 2']);
    expect(gone.code).to.equal(1);
    expect(gone.stderr).to.contain('REQ_NOT_FOUND');
  });

  it('refuses a downgrade below what is configured, listing holders, until it is reduced', async () => {
    // In use: 1 attendant + a second one, 30 trunk channels. The new file grants 1 attendant, 20 channels.
    expect((await call('POST', '/api/v1/auto-attendants', attendantBody('Hotline', ['+495311240']))).status).to.equal(201);
    const smaller = d.license({ quantities: { ...RESOURCES_LICENSE.quantities, autoattendants: 1, trunkchannels: 20 } });
    const staged = await d.request('POST', '/api/v1/license/stage', { raw: smaller });
    seen.push(staged.text);
    expect(staged.status).to.equal(201);
    const byCode = Object.fromEntries(staged.json.overused.map((o: { code: string }) => [o.code, o]));
    expect(byCode.autoattendants).to.include({ used: 2, newTotal: 1, toRemove: 1 });
    expect(byCode.autoattendants.holders.map((h: { id: string }) => h.id)).to.have.members(['Zentrale', 'Hotline']);
    expect(byCode.trunkchannels).to.include({ used: 30, newTotal: 20, toRemove: 10 });
    expect(byCode.trunkchannels.holders[0]).to.include({ kind: 'trunk', id: 'Carrier A#14', name: 'Carrier A: channel 14 of 14' });

    const refused = await call('POST', '/api/v1/license/activate', { stageId: staged.json.stageId });
    expect(refused.status).to.equal(409);
    expect(refused.json.error.code).to.equal('LIC_OVERUSED');
    expect(refused.json.error.message).to.contain('autoattendants 2 in use, 1 licensed (remove 1)').and.contain('trunkchannels 30 in use, 20 licensed (remove 10)');
    expect(await codeLine('trunkchannels'), 'the old license stays in force').to.include({ used: 30, total: 30 });

    const trunkCount = (await call('GET', '/api/v1/sip-trunks')).json.trunks.length;
    // The admin removes the attendant by hand and lets the plan take the 10 channels.
    expect((await call('DELETE', '/api/v1/auto-attendants/Hotline')).status).to.equal(204);
    const trunkPlan = staged.json.plan.filter((s: { code: string }) => s.code === 'trunkchannels');
    expect(trunkPlan).to.have.length(10);
    const done = await call('POST', '/api/v1/license/activate', { stageId: staged.json.stageId, plan: trunkPlan });
    expect(done.status, done.text).to.equal(200);
    expect(await codeLine('autoattendants')).to.include({ used: 1, total: 1 });
    expect(await codeLine('trunkchannels')).to.include({ used: 20, total: 20 });
    const trunks = Object.fromEntries((await call('GET', '/api/v1/sip-trunks')).json.trunks.map((t: { name: string; channels: number }) => [t.name, t.channels]));
    // The plan takes the highest-numbered channels first: Carrier A gives up 14 → 4, nothing is deleted.
    expect(trunks['Carrier A']).to.equal(4);
    expect(Object.keys(trunks)).to.have.length(trunkCount);
    const creates = await call('POST', '/api/v1/auto-attendants', attendantBody('Again', ['+495311241']));
    expect(creates.json.error.message).to.equal('1 of 1 auto attendants in use.');

    // A plan step releasing an attendant deletes it; a step naming a channel that is not configured is refused.
    const none = await d.request('POST', '/api/v1/license/stage', { raw: d.license({ quantities: { ...RESOURCES_LICENSE.quantities, autoattendants: 0, trunkchannels: 20 } }) });
    expect(none.json.plan).to.deep.equal([{ kind: 'autoattendant', id: 'Zentrale', code: 'autoattendants' }]);
    const stale = await call('POST', '/api/v1/license/activate', { stageId: none.json.stageId, plan: [...none.json.plan, { kind: 'trunk', id: 'Nowhere#1', code: 'trunkchannels' }] });
    expect(stale.status).to.equal(400);
    expect(stale.json.error.code).to.equal('LIC_PLAN_INVALID');
    expect((await call('GET', '/api/v1/auto-attendants')).json.used, 'a refused activation releases nothing').to.equal(1);
    expect((await call('POST', '/api/v1/license/activate', { stageId: none.json.stageId, plan: none.json.plan })).status).to.equal(200);
    expect((await call('GET', '/api/v1/auto-attendants')).json).to.deep.include({ used: 0, total: 0, autoAttendants: [] });
    expect((await auditActions(d, 'autoattendant.delete'))[0]).to.deep.include({ subject: 'Zentrale', details: { reason: 'license plan' } });
  });

  it('never shows a trunk password in any API response, audit entry or log line', async () => {
    seen.push((await call('GET', '/api/v1/audit?limit=1000')).text);
    for (const pw of PASSWORDS) {
      expect(seen.filter((t) => t.includes(pw)), `a response contains ${pw}`).to.deep.equal([]);
      expect(d.output.filter((l) => l.includes(pw)), `a log line contains ${pw}`).to.deep.equal([]);
    }
    expect(seen.length).to.be.greaterThan(50);
  });
});

describe('auto attendants across a restart', function () {
  let d: TestDaemon;
  after(async () => d?.dispose());

  it('switches to the state of the moment right after start-up, before the daemon reports ready', async () => {
    d = await TestDaemon.start();
    await d.installLicense(RESOURCES_LICENSE);
    const body = attendantBody('Zentrale', ['+495311230']);
    const schedule = parseSchedule(body.schedule);
    // Create it at a moment whose state is the opposite of the real time's, then restart (the clock returns to real time).
    const realState = evaluate(schedule, new Date()).state;
    const opposite = realState === 'open' ? '2026-12-05T12:00:00Z' /* Saturday */ : '2026-12-02T10:00:00Z' /* Wednesday 11:00 */;
    await d.setClock(new Date(opposite));
    expect((await d.request('POST', '/api/v1/auto-attendants', { body })).json.state).to.not.equal(realState);
    d = await d.restart();
    const after = (await d.request('GET', '/api/v1/auto-attendants/Zentrale')).json;
    expect(after.state).to.equal(realState);
    expect(after.since).to.equal(evaluate(schedule, new Date()).since?.toISOString());
    expect((await auditActions(d, 'autoattendant.switch'))[0]).to.deep.include({ actor: 'scheduler', subject: 'Zentrale' });
  });

  it('tries a schedule without storing it', async () => {
    const r = await d.request('POST', '/api/v1/auto-attendants/evaluate', { body: { schedule: attendantBody('x', ['1']).schedule, at: '2026-03-28T12:00:00Z' } });
    expect(r.status, r.text).to.equal(200);
    expect(r.json).to.deep.equal({ at: '2026-03-28T12:00:00.000Z', state: 'closed', since: '2026-03-27T16:00:00.000Z', nextChange: '2026-03-30T06:00:00.000Z' });
    const bad = await d.request('POST', '/api/v1/auto-attendants/evaluate', { body: { schedule: { timeZone: 'Nowhere/Else' } } });
    expect(bad.json.error.code).to.equal('AA_SCHEDULE_INVALID');
    expect((await d.request('GET', '/api/v1/auto-attendants')).json.used).to.equal(1);
  });
});

describe('auto attendants and SIP trunks after a fall to Entry', function () {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.installLicense({ ...RESOURCES_LICENSE, expiresAt: '2027-01-01T00:00:00Z' });
  });
  after(async () => d.dispose());

  it('keeps what exists, shows it as over-used, allows lowering only, and refuses a license that does not cover it', async () => {
    expect((await d.request('POST', '/api/v1/auto-attendants', { body: attendantBody('Zentrale', ['+495311230']) })).status).to.equal(201);
    expect((await d.request('POST', '/api/v1/sip-trunks', { body: { name: 'Carrier A', registrar: 'sip.a.example', username: 'a', password: 'pw-entry-a', channels: 5 } })).status).to.equal(201);
    await d.setClock(new Date('2027-02-01T12:00:00Z')); // past expiry and the 14 days of grace
    const s = await d.status();
    expect(s.mode).to.equal('entry');
    const line = (code: string) => s.codes.find((c: { code: string }) => c.code === code);
    expect(line('autoattendants')).to.include({ used: 1, total: 0 });
    expect(line('trunkchannels')).to.include({ used: 5, total: 0 });
    expect((await d.request('GET', '/api/v1/auto-attendants/Zentrale')).status, 'nothing is deleted').to.equal(200);
    expect((await d.request('POST', '/api/v1/auto-attendants', { body: attendantBody('Second', ['+495311231']) })).json.error.code).to.equal('AA_LIMIT_REACHED');
    expect((await d.request('PATCH', '/api/v1/sip-trunks/Carrier%20A', { body: { channels: 6 } })).json.error.code).to.equal('TRUNK_CHANNELS_EXCEEDED');
    expect((await d.request('PATCH', '/api/v1/sip-trunks/Carrier%20A', { body: { channels: 3 } })).json.channels).to.equal(3);

    const without = await d.request('POST', '/api/v1/license', { raw: d.license({ quantities: { users: 10 } }) });
    expect(without.status).to.equal(409);
    expect(without.json.error.code).to.equal('LIC_OVERUSED');
    expect(without.json.error.details.codes.map((c: { code: string }) => c.code)).to.have.members(['autoattendants', 'trunkchannels']);
    expect((await d.status()).mode).to.equal('entry');
  });
});
