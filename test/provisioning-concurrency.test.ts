import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestDaemon } from './support/daemon.js';
import { addUser, assign, ciscoBootPaths, device, prov, used } from './support/provisioning.js';
import { Store } from '../daemon/store/store.js';
import { EventBus } from '../daemon/kernel/events.js';
import { AuditLog } from '../daemon/core/audit.js';
import { Licensing } from '../daemon/licensing/licensing.js';
import { LicenseVerifier, DEVELOPMENT_ROOT } from '../daemon/licensing/verifier.js';
import { Devices } from '../daemon/core/devices.js';
import { DEVICE_FAMILIES } from '../daemon/main.js';
import { Users } from '../daemon/core/users.js';
import { silentLogger } from '../daemon/kernel/log.js';
import { OffsetClock } from '../daemon/kernel/clock.js';

const mac = (i: number) => `00562B1000${i.toString(16).padStart(2, '0').toUpperCase()}`;

describe('provisioning: support licenses under concurrency', function () {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.installLicense({ quantities: { users: 50, 'devices.cisco': 3, 'devices.unify': 1 } });
    for (let i = 0; i < 12; i++) {
      await addUser(d, `u${i}`);
      await prov(d, `/SEP${mac(i)}.cnf.xml`);
      await assign(d, mac(i), `u${i}`);
    }
  });
  after(async () => d.dispose());

  it('one full boot sequence with every request at once takes one license', async () => {
    const all = await Promise.all([...ciscoBootPaths(mac(0)), ...ciscoBootPaths(mac(0)), `/SEP${mac(0)}.cnf.xml`, `/SEP${mac(0)}.cnf.xml`].map((p) => prov(d, p)));
    expect(all.filter((r) => r.status === 200 && r.text.includes('<device>'))).to.have.length(4);
    expect(used(await d.status(), 'devices.cisco').used).to.equal(1);
  });

  it('never hands out more licenses than the file grants when many new phones boot at once', async () => {
    const tries = [];
    for (let round = 0; round < 3; round++) for (let i = 1; i < 12; i++) tries.push(prov(d, `/SEP${mac(i)}.cnf.xml`));
    const replies = await Promise.all(tries);
    const servedMacs = new Set(replies.map((r, k) => (r.status === 200 ? mac((k % 11) + 1) : null)).filter(Boolean));
    expect(servedMacs.size).to.equal(2);
    expect(replies.every((r) => r.status === 200 || r.status === 403)).to.equal(true);
    expect(used(await d.status(), 'devices.cisco')).to.deep.equal({ used: 3, total: 3 });
  });

  it('a phone holding a license is never beaten to it by new phones in a storm', async () => {
    const storm = [];
    for (let k = 0; k < 10; k++) {
      storm.push(prov(d, `/SEP${mac(0)}.cnf.xml`).then((r) => ['holder', r.status] as const));
      for (let i = 3; i < 12; i++) storm.push(prov(d, `/SEP${mac(i)}.cnf.xml`).then((r) => ['new', r.status] as const));
    }
    const out = await Promise.all(storm);
    expect(out.filter(([who]) => who === 'holder').every(([, s]) => s === 200)).to.equal(true);
    expect((await device(d, mac(0))).licenseState).to.equal('licensed');
    expect(used(await d.status(), 'devices.cisco').used).to.equal(3);
  });

  it('keeps every claim across a hard kill (power cut) and serves the holders first after it', async () => {
    const licensed = (await (await d.request('GET', '/api/v1/devices?state=licensed')).json.devices).map((x: any) => x.mac).sort();
    expect(licensed).to.have.length(3);
    await d.kill('SIGKILL');
    d = await TestDaemon.start({ dataDir: d.dataDir });
    const after = await Promise.all(Array.from({ length: 12 }, (_, i) => prov(d, `/SEP${mac(i)}.cnf.xml`)));
    const served = after.map((r, i) => (r.status === 200 ? mac(i).toLowerCase() : null)).filter(Boolean).sort();
    expect(served).to.deep.equal(licensed);
  });
});

describe('devices: releasing stale support licenses', function () {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pbxd-devices-'));
    store = await Store.open(join(dir, 'pbxd.db'), silentLogger);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('releases Cisco/Unify phones not seen for N days, one event and one audit entry each', async () => {
    const clock = new OffsetClock();
    const bus = new EventBus();
    const audit = new AuditLog(store, clock, bus);
    const verifier = new LicenseVerifier({ trustedRoots: [DEVELOPMENT_ROOT], systemId: 'TEST-TEST-TEST-TEST', buildDate: '2026-11-26', maxFutureMinutes: 5 });
    const licensing = new Licensing(store, verifier, clock, bus, audit, { graceDays: 14 });
    const users = new Users(store, licensing, audit, bus, clock);
    const devices = new Devices(store, clock, bus, audit, licensing, users.directory, silentLogger, DEVICE_FAMILIES, { autoRecordPerSource: 10, historySize: 10 });
    const now = Date.now();
    const day = 24 * 3600_000;
    await store.write(async (tx) => {
      const row = (m: string, vendor: string, code: string | null, seenDaysAgo: number) =>
        tx.run("INSERT INTO devices (mac, vendor, source, created_at, last_seen, user_name, license_code, licensed_at) VALUES (?, ?, 'admin', ?, ?, 'x', ?, ?)", [
          m, vendor, new Date(now - 100 * day).toISOString(), new Date(now - seenDaysAgo * day).toISOString(), code, code ? new Date(now - 90 * day).toISOString() : null,
        ]);
      await row('00562b000001', 'cisco', 'devices.cisco', 40);
      await row('001ae8000001', 'unify', 'devices.unify', 31);
      await row('00562b000002', 'cisco', 'devices.cisco', 2);
      await row('7c2f80000001', 'gigaset', null, 60);
    });
    await devices.load();
    const changed: string[] = [];
    bus.on('devices.changed', (e) => changed.push(...e.data.macs));
    const released = await devices.releaseStale(30, 'scheduler');
    expect(released.sort()).to.deep.equal(['001ae8000001', '00562b000001']);
    expect(changed.sort()).to.deep.equal(['001ae8000001', '00562b000001']);
    expect(devices.get('00562b000002')!.licenseCode).to.equal('devices.cisco');
    const entries = await audit.list({ action: 'device.license.release' });
    expect(entries.map((e) => e.subject).sort()).to.deep.equal(['001ae8000001', '00562b000001']);
    expect(entries.every((e) => e.actor === 'scheduler')).to.equal(true);
    expect(await licensing.usage()).to.include({ 'devices.cisco': 1, 'devices.unify': 0 });
  });
});
