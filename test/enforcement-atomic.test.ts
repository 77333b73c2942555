import { expect } from 'chai';
import sqlite3 from 'sqlite3';
import { join } from 'node:path';
import { TestDaemon, type Reply } from './support/daemon.js';
import { addDevice, addUser, assign, ciscoBoot, device, prov, sipPassword, used } from './support/provisioning.js';
import { attendantBody } from './support/resources.js';

function sql<T = any>(d: TestDaemon, query: string, params: unknown[] = [], write = false): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(join(d.dataDir, 'pbxd.db'), write ? sqlite3.OPEN_READWRITE : sqlite3.OPEN_READONLY, (err) => {
      if (err) return reject(err);
      db.all(query, params, (e, rows) => db.close(() => (e ? reject(e) : resolve(rows as T[]))));
    });
  });
}

const count = (replies: Reply[], status: number) => replies.filter((r) => r.status === status).length;

describe('enforcement: license changes take effect inside the write that commits them', function () {
  this.timeout(180_000);

  it('a downgrade racing 1,000 registrations and assignments ends exactly at the new limits, with no 2xx beyond them', async () => {
    const d = await TestDaemon.start();
    try {
      await d.installLicense({ licenseId: 'LIC-BIG', quantities: { users: 5000, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: 5000 } });
      const existing = Array.from({ length: 300 }, (_, i) => ({ userName: `u${i}`, firstName: 'U', lastName: String(i) }));
      const imp = await d.request('POST', '/api/v1/users/import', { body: { users: existing } });
      expect(imp.status, imp.text).to.equal(200);
      const staged = await d.request('POST', '/api/v1/license/stage', { raw: d.license({ licenseId: 'LIC-SMALL', quantities: { users: 400, 'devices.cisco': 0, 'devices.unify': 0 }, perUser: { clientbundle: 20 } }) });
      expect(staged.status, staged.text).to.equal(201);

      // Registrations already flowing, then the activation, then the rest of the storm behind it.
      const early = Array.from({ length: 50 }, (_, i) => d.request('POST', '/api/v1/users', { body: { userName: `early${i}` } }));
      const activation = d.request('POST', '/api/v1/license/activate', { body: { stageId: staged.json.stageId } });
      const registrations = Array.from({ length: 650 }, (_, i) => d.request('POST', '/api/v1/users', { body: { userName: `late${i}` } }));
      const assignments = existing.map((u) => d.request('POST', '/api/v1/user-licenses', { body: { changes: [{ userName: u.userName, code: 'clientbundle', assigned: true }] } }));
      const act = await activation;
      const regs = await Promise.all([...early, ...registrations]);
      const assigned = await Promise.all(assignments);

      expect(act.status, act.text).to.equal(200);
      const s = await d.status();
      expect(s.licenseId).to.equal('LIC-SMALL');
      expect(used(s, 'users'), 'users end exactly at the new limit').to.deep.equal({ used: 400, total: 400 });
      expect(count(regs, 201), 'one 201 per seat taken, none beyond').to.equal(100);
      expect(count(regs, 409), 'the rest refused as exhausted').to.equal(600);
      expect(regs.filter((r) => r.status === 409).every((r) => r.json.error.code === 'SEATS_EXHAUSTED')).to.equal(true);
      expect(used(s, 'clientbundle'), 'per-user licenses end exactly at the new limit').to.deep.equal({ used: 20, total: 20 });
      expect(assigned.filter((r) => r.status === 200 && r.json.applied === 1).length, 'one 200 per license assigned, none beyond').to.equal(20);
      expect(assigned.filter((r) => r.status === 409 && r.json.error.code === 'USERLIC_QUOTA_EXCEEDED').length).to.equal(280);
      expect(s.suspendedLicenses, 'nothing had to be suspended afterwards').to.equal(0);
      const [row] = await sql<{ n: number }>(d, "SELECT COUNT(*) AS n FROM users WHERE builtin = 0 AND status = 'active'");
      expect(row?.n).to.equal(400);
    } finally {
      await d.dispose();
    }
  });

  it('auto attendants and trunk channels racing a downgrade (in the same group commit) end exactly at the new limits', async () => {
    const d = await TestDaemon.start();
    try {
      await d.installLicense({ licenseId: 'LIC-BIG', quantities: { users: 1000, 'devices.cisco': 0, 'devices.unify': 0, autoattendants: 20, trunkchannels: 200 } });
      const staged = await d.request('POST', '/api/v1/license/stage', { raw: d.license({ licenseId: 'LIC-SMALL', quantities: { users: 1000, 'devices.cisco': 0, 'devices.unify': 0, autoattendants: 2, trunkchannels: 10 } }) });
      expect(staged.status, staged.text).to.equal(201);

      // Writes already queued (registrations), so the activation commits in a group with the storm behind it.
      const backlog = Array.from({ length: 200 }, (_, i) => d.request('POST', '/api/v1/users', { body: { userName: `busy${i}` } }));
      const activation = d.request('POST', '/api/v1/license/activate', { body: { stageId: staged.json.stageId } });
      const attendants = Array.from({ length: 10 }, (_, i) => d.request('POST', '/api/v1/auto-attendants', { body: attendantBody(`AA ${i}`, [`+4953112${String(i).padStart(3, '0')}`]) }));
      const trunks = Array.from({ length: 20 }, (_, i) => d.request('POST', '/api/v1/sip-trunks', { body: { name: `T${i}`, registrar: 'sip.example', username: `u${i}`, password: `secret-password-${i}`, channels: 5 } }));
      const act = await activation;
      expect(count(await Promise.all(backlog), 201)).to.equal(200);
      const aa = await Promise.all(attendants);
      const tr = await Promise.all(trunks);

      expect(act.status, act.text).to.equal(200);
      const s = await d.status();
      expect(used(s, 'autoattendants')).to.deep.equal({ used: 2, total: 2 });
      expect(count(aa, 201), 'one 201 per auto attendant licensed, none beyond').to.equal(2);
      expect(aa.filter((r) => r.status === 409).every((r) => r.json.error.code === 'AA_LIMIT_REACHED')).to.equal(true);
      expect(used(s, 'trunkchannels')).to.deep.equal({ used: 10, total: 10 });
      expect(count(tr, 201), 'one 201 per trunk that fits, none beyond').to.equal(2);
      expect(tr.filter((r) => r.status === 409).every((r) => r.json.error.code === 'TRUNK_CHANNELS_EXCEEDED')).to.equal(true);
    } finally {
      await d.dispose();
    }
  });

  it('phone claims racing a downgrade end exactly at the new limit: a configuration is served only with a license', async () => {
    const d = await TestDaemon.start();
    try {
      await d.installLicense({ licenseId: 'LIC-BIG', quantities: { users: 100, 'devices.cisco': 50, 'devices.unify': 0 } });
      const macs = Array.from({ length: 30 }, (_, i) => `00562B07${(0x10 + i).toString(16).toUpperCase().padStart(4, '0')}`);
      expect((await d.request('POST', '/api/v1/users/import', { body: { users: macs.map((_, i) => ({ userName: `p${i}` })) } })).status).to.equal(200);
      for (const [i, mac] of macs.entries()) {
        expect((await d.request('POST', '/api/v1/devices', { body: { mac, vendor: 'cisco', model: 'CP-8845' } })).status).to.equal(201);
        await assign(d, mac, `p${i}`);
      }
      const staged = await d.request('POST', '/api/v1/license/stage', { raw: d.license({ licenseId: 'LIC-SMALL', quantities: { users: 100, 'devices.cisco': 5, 'devices.unify': 0 } }) });
      expect(staged.status, staged.text).to.equal(201);

      const activation = d.request('POST', '/api/v1/license/activate', { body: { stageId: staged.json.stageId } });
      const phones = macs.map((mac) => prov(d, `/SEP${mac}.cnf.xml`));
      const act = await activation;
      const served = await Promise.all(phones);

      expect(act.status, act.text).to.equal(200);
      const s = await d.status();
      expect(used(s, 'devices.cisco'), 'support licenses end exactly at the new limit').to.deep.equal({ used: 5, total: 5 });
      expect(served.filter((r) => r.status === 200).length, 'one configuration served per license taken').to.equal(5);
      expect(served.filter((r) => r.status === 403 && r.headers['x-pbxd-refusal'] === 'PROV_LICENSE_REQUIRED').length).to.equal(25);
    } finally {
      await d.dispose();
    }
  });

  it('a SIGKILL right after a user delete leaves no phone licensed to them or served with their credentials', async () => {
    const A = '00562B0499A1';
    let d = await TestDaemon.start();
    try {
      await d.installLicense({ quantities: { users: 10, 'devices.cisco': 2, 'devices.unify': 0 } });
      await addUser(d, 'anna', 'Anna', 'Muster');
      await addUser(d, 'bernd', 'Bernd', 'Muster');
      await prov(d, `/SEP${A}.cnf.xml`);
      await assign(d, A, 'anna');
      await ciscoBoot(d, A);
      const secret = await sipPassword(d, A);
      expect((await device(d, A)).licenseState).to.equal('licensed');
      expect((await prov(d, `/SEP${A}.cnf.xml`)).text).to.contain(secret);

      const del = await d.request('DELETE', '/api/v1/users/anna');
      expect(del.status, del.text).to.be.oneOf([200, 204]);
      await d.kill('SIGKILL');

      const [row] = await sql(d, 'SELECT user_name, license_code, sip_password FROM devices WHERE mac = ?', [A.toLowerCase()]);
      expect(row).to.deep.equal({ user_name: null, license_code: null, sip_password: '' });
      d = await d.restart();
      const served = await prov(d, `/SEP${A}.cnf.xml`);
      expect(served.status).to.not.equal(200);
      expect(served.text).to.not.contain(secret);
      expect((await device(d, A)).licenseState).to.equal('unassigned');
      expect(used(await d.status(), 'devices.cisco').used).to.equal(0);
    } finally {
      await d.dispose();
    }
  });

  it('repairs at start a phone left licensed to a user that no longer exists', async () => {
    const A = '00562B0499B2';
    let d = await TestDaemon.start();
    try {
      await d.installLicense({ quantities: { users: 10, 'devices.cisco': 2, 'devices.unify': 0 } });
      await addUser(d, 'clara', 'Clara', 'Muster');
      await prov(d, `/SEP${A}.cnf.xml`);
      await assign(d, A, 'clara');
      await ciscoBoot(d, A);
      expect((await device(d, A)).licenseState).to.equal('licensed');
      await d.stop();
      // What an older build could leave behind: the user row gone, the phone still licensed to it.
      await sql(d, "DELETE FROM users WHERE user_name = 'clara'", [], true);
      d = await d.restart();
      expect((await device(d, A)).licenseState).to.equal('unassigned');
      expect(used(await d.status(), 'devices.cisco').used).to.equal(0);
      const audit = (await d.request('GET', '/api/v1/audit?limit=20')).json;
      expect(JSON.stringify(audit)).to.contain('user deleted');
    } finally {
      await d.dispose();
    }
  });
});

describe('enforcement: a phone line needs a seat, a support license stays with its family', function () {
  this.timeout(60_000);

  it('a device recorded anew as another family gives its license back; a user waiting for a seat gets no line', async () => {
    const d = await TestDaemon.start();
    try {
      await d.installLicense({ quantities: { users: 1, 'devices.cisco': 1, 'devices.unify': 1 } });
      await addUser(d, 'ada');
      const mac = '00562b0436a1';
      await addDevice(d, mac, 'cisco');
      await assign(d, mac, 'ada');
      await ciscoBoot(d, mac);
      expect(used(await d.status(), 'devices.cisco'), 'the Cisco phone took its license').to.deep.equal({ used: 1, total: 1 });

      // Re-added as a Unify phone: the Cisco license is not carried over to serve another family.
      await addDevice(d, mac, 'unify');
      const s = await d.status();
      expect(used(s, 'devices.cisco'), 'the Cisco license is free again').to.deep.equal({ used: 0, total: 1 });
      expect(used(s, 'devices.unify'), 'no Unify license taken by the move').to.deep.equal({ used: 0, total: 1 });
      expect((await device(d, mac)).licenseState).to.equal('waiting');

      // Beyond the seats an import keeps users pending: such a user is not given a phone line.
      const imp = await d.request('POST', '/api/v1/users/import', { body: { users: [{ userName: 'bob' }] } });
      expect(imp.status, imp.text).to.equal(200);
      await addDevice(d, '00562b0436a2', 'cisco');
      const r = await d.request('POST', '/api/v1/devices/00562b0436a2/assign', { body: { userName: 'bob' } });
      expect(r.status, r.text).to.equal(409);
      expect(r.json.error.code).to.equal('DEV_USER_PENDING');
      expect((await device(d, '00562b0436a2')).userName, 'nothing assigned').to.equal(null);
    } finally {
      await d.dispose();
    }
  });
});
