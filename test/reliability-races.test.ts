import { expect } from 'chai';
import { DAY, TestDaemon, iso, sleep } from './support/daemon.js';
import { eventually } from './support/eventually.js';
import { countsInDb, int, mulberry32, post, queryDb, seedOf, usage, type Random } from './support/reliability.js';
import { addDevice, assign, prov } from './support/provisioning.js';

const shuffle = <T>(rnd: Random, xs: T[]) => {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
};

/** Start all requests in a seeded order with seeded small gaps; resolve with every status. */
async function burst(rnd: Random, requests: Array<() => Promise<number | 'gone'>>): Promise<Array<number | 'gone'>> {
  const order = shuffle(rnd, requests.map((fn, i) => ({ fn, i })));
  const out: Array<Promise<number | 'gone'>> = [];
  for (const { fn, i } of order) {
    out[i] = fn();
    if (rnd() < 0.1) await sleep(int(rnd, 0, 3));
  }
  return Promise.all(out);
}

describe('reliability: races for the last seat, device license and per-user license @slow', function () {
  this.timeout(60_000);
  const seed = seedOf('races');
  let d: TestDaemon;
  afterEach(async () => d?.dispose());

  for (let iteration = 0; iteration < 3; iteration++) {
    it(`never passes a limit when registrations and assignments race a license downgrade (seed ${seed}, run ${iteration + 1})`, async () => {
      const rnd = mulberry32(seed + iteration);
      d = await TestDaemon.start({ config: { log: { level: 'warn' } } });
      await d.installLicense({ licenseId: 'LIC-BIG', quantities: { users: 20, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: 10, vap: 3 } });
      const existing = Array.from({ length: 15 }, (_, i) => `u${i}`);
      await d.request('POST', '/api/v1/users/import', { body: { users: existing.map((userName) => ({ userName })) } });
      const token = await d.adminToken();
      const downgrade = d.license({ licenseId: 'LIC-SMALL', quantities: { users: 17, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: 6, vap: 1 } });

      const requests: Array<() => Promise<number | 'gone'>> = [
        ...Array.from({ length: 40 }, (_, i) => () => post(d, token, '/api/v1/users', { userName: `new${i}` })),
        ...existing.map((userName) => () => post(d, token, '/api/v1/user-licenses', { changes: [{ userName, code: 'clientbundle', assigned: true }] })),
        ...existing.map((userName) => () => post(d, token, '/api/v1/user-licenses', { changes: [{ userName, code: 'vap', assigned: true }] })),
        // Batches of three overlap the single assignments: all three or none.
        ...Array.from({ length: 5 }, (_, b) => () => post(d, token, '/api/v1/user-licenses', { changes: existing.slice(b * 3, b * 3 + 3).map((userName) => ({ userName, code: 'clientbundle', assigned: true })) })),
        () => post(d, token, '/api/v1/license', { license: downgrade }),
      ];
      const statuses = await burst(rnd, requests);
      const downgraded = statuses[statuses.length - 1];
      expect([200, 409], 'the downgrade is applied or refused as over-used').to.include(downgraded);

      const limits = downgraded === 200 ? { users: 17, clientbundle: 6, vap: 1 } : { users: 20, clientbundle: 10, vap: 3 };
      const counts = await countsInDb(d.dataDir);
      const shown = await usage(d);
      expect((await d.status()).licenseId).to.equal(downgraded === 200 ? 'LIC-SMALL' : 'LIC-BIG');
      expect(counts.activeUsers, 'seats').to.be.at.most(limits.users);
      expect(counts.held.clientbundle ?? 0, 'clientbundle').to.be.at.most(limits.clientbundle);
      expect(counts.held.vap ?? 0, 'vap').to.be.at.most(limits.vap);
      expect(statuses.slice(0, 40).filter((s) => s === 201).length, 'every 201 is an active user').to.equal(counts.activeUsers - existing.length);
      expect(statuses.every((s) => s === 200 || s === 201 || s === 409), `only success or a refusal: ${statuses.join(',')}`).to.equal(true);
      expect(shown.users!.used).to.equal(counts.activeUsers);
      expect(shown.clientbundle!.used).to.equal(counts.held.clientbundle ?? 0);
      if (downgraded === 409) {
        // It was refused because something was over-used at that moment: the small license must not have fit then, and still does not.
        expect(counts.activeUsers > 17 || (counts.held.clientbundle ?? 0) > 6 || (counts.held.vap ?? 0) > 1).to.equal(true);
      }
    });
  }

  it('never holds more than the allowance in force when assignments and registrations race an expiry into Entry', async () => {
    const rnd = mulberry32(seed + 99);
    d = await TestDaemon.start({ config: { log: { level: 'warn' }, license: { graceDays: 14 } } });
    const now = Date.now();
    await d.installLicense({ expiresAt: iso(now + DAY), quantities: { users: 30, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: 10 } });
    const existing = Array.from({ length: 20 }, (_, i) => `e${i}`);
    await d.request('POST', '/api/v1/users/import', { body: { users: existing.map((userName) => ({ userName })) } });
    const token = await d.adminToken();
    const expire = async () => {
      try {
        const r = await fetch(`${d.apiUrl}/api/v1/dev/clock`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ now: iso(now + 16 * DAY) }) });
        await r.arrayBuffer();
        return r.status;
      } catch {
        return 'gone' as const;
      }
    };
    const statuses = await burst(rnd, [
      ...existing.map((userName) => () => post(d, token, '/api/v1/user-licenses', { changes: [{ userName, code: 'clientbundle', assigned: true }] })),
      ...Array.from({ length: 30 }, (_, i) => () => post(d, token, '/api/v1/users', { userName: `late${i}` })),
      expire,
    ]);
    expect(statuses[statuses.length - 1]).to.equal(200);
    expect((await d.status()).mode).to.equal('entry');

    // After the move into Entry nothing more is granted, and what was held beyond the allowance (0) is suspended.
    let counts = await eventually(async () => {
      const now = await countsInDb(d.dataDir);
      expect(now.held.clientbundle ?? 0, 'per-user licenses held in Entry').to.equal(0);
      return now;
    });
    const activeAtExpiry = counts.activeUsers;
    const after = await Promise.all([
      post(d, token, '/api/v1/users', { userName: 'afterexpiry' }),
      post(d, token, '/api/v1/user-licenses', { changes: [{ userName: 'e0', code: 'clientbundle', assigned: true }] }),
    ]);
    expect(after).to.deep.equal([409, 409]);
    counts = await countsInDb(d.dataDir);
    expect(counts.activeUsers, 'no seat taken after the expiry').to.equal(activeAtExpiry);
    expect(counts.activeUsers, 'never more than the expired license allowed').to.be.at.most(30);
    expect((await usage(d)).clientbundle?.used ?? 0).to.equal(0);
  });

  it('never hands out more device licenses than are in force when phones race a downgrade, then an expiry', async () => {
    const rnd = mulberry32(seed + 7);
    const now = Date.now();
    d = await TestDaemon.start({ config: { log: { level: 'warn' }, license: { graceDays: 14 } } });
    await d.installLicense({ licenseId: 'LIC-DEV-BIG', expiresAt: iso(now + DAY), quantities: { users: 30, 'devices.cisco': 6, 'devices.unify': 0 }, perUser: {} });
    const mac = (i: number) => `00562B77${i.toString(16).padStart(4, '0').toUpperCase()}`;
    const phones = Array.from({ length: 14 }, (_, i) => mac(i));
    await d.request('POST', '/api/v1/users/import', { body: { users: phones.map((_, i) => ({ userName: `ph${i}` })) } });
    for (const [i, m] of phones.entries()) {
      await addDevice(d, m, 'cisco', 'CP-8845');
      await assign(d, m, `ph${i}`);
    }
    const token = await d.adminToken();
    const boot = (m: string) => async () => {
      try {
        return (await prov(d, `/SEP${m}.cnf.xml`)).status;
      } catch {
        return 'gone' as const;
      }
    };
    const downgrade = d.license({ licenseId: 'LIC-DEV-SMALL', expiresAt: iso(now + DAY), quantities: { users: 30, 'devices.cisco': 4, 'devices.unify': 0 }, perUser: {} });
    const statuses = await burst(rnd, [...phones.flatMap((m) => [boot(m), boot(m)]), () => post(d, token, '/api/v1/license', { license: downgrade })]);
    const downgraded = statuses[statuses.length - 1];
    expect([200, 409]).to.include(downgraded);
    const limit = downgraded === 200 ? 4 : 6;
    const licensed = async () => (await queryDb<{ mac: string }>(d.dataDir, "SELECT mac FROM devices WHERE license_code = 'devices.cisco'")).map((r) => r.mac);
    const holders = await licensed();
    expect(holders.length, 'device licenses held').to.be.at.most(limit);
    if (downgraded === 409) expect(holders.length, 'refused only because more were held than the small license grants').to.be.above(4);
    expect((await usage(d))['devices.cisco']!.used).to.equal(holders.length);
    const served = statuses.slice(0, -1).map((s, k) => (s === 200 ? phones[Math.floor(k / 2)]!.toLowerCase() : null)).filter(Boolean);
    expect(new Set(served), 'a phone got its configuration only with a license').to.deep.equal(new Set(holders));

    // Into Entry: no support license for devices any more; nobody new gets one, whatever the order.
    const expire = async () => {
      const r = await fetch(`${d.apiUrl}/api/v1/dev/clock`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ now: iso(now + 16 * DAY) }) });
      await r.arrayBuffer();
      return r.status;
    };
    const late = await burst(rnd, [...phones.map((m) => boot(m)), expire]);
    expect(late[late.length - 1]).to.equal(200);
    expect((await d.status()).mode).to.equal('entry');
    const afterExpiry = await Promise.all(phones.filter((m) => !holders.includes(m.toLowerCase())).map((m) => boot(m)()));
    expect(afterExpiry.every((s) => s === 403), `phones without a license are refused in Entry: ${afterExpiry.join(',')}`).to.equal(true);
    expect((await licensed()).length, 'no license handed out after the expiry').to.be.at.most(holders.length);
  });
});
