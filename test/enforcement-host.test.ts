import { expect } from 'chai';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { TestDaemon } from './support/daemon.js';

/** A "host": the files pbxd reads its fingerprint from (machine id, DMI product UUID, the NIC's MAC). */
function host(parts: { machineId: string; productUuid: string; mac: string }, dir = mkdtempSync(join(tmpdir(), 'pbxd-host-'))) {
  writeFileSync(join(dir, 'machine-id'), parts.machineId + '\n');
  writeFileSync(join(dir, 'product_uuid'), parts.productUuid + '\n');
  mkdirSync(join(dir, 'net', 'eth0', 'device'), { recursive: true });
  writeFileSync(join(dir, 'net', 'eth0', 'address'), parts.mac + '\n');
  // A virtual interface (no device): never the primary NIC.
  mkdirSync(join(dir, 'net', 'br0'), { recursive: true });
  writeFileSync(join(dir, 'net', 'br0', 'address'), '02:00:00:00:00:01\n');
  return { machineIdFile: join(dir, 'machine-id'), productUuidFile: join(dir, 'product_uuid'), netDir: join(dir, 'net'), rootFsUuidFile: join(dir, 'no-rootfs-uuid') };
}

const HOST_A = { machineId: 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1', productUuid: '4c4c4544-0042-3510-8051-b7c04f4a3332', mac: '52:54:00:12:34:56' };
const HOST_B = { machineId: 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2', productUuid: '9a1b2c3d-0000-4000-8000-0123456789ab', mac: '52:54:00:ab:cd:ef' };

async function addUsers(d: TestDaemon, names: string[]) {
  for (const n of names) expect((await d.request('POST', '/api/v1/users', { body: { userName: n } })).status).to.equal(201);
}

async function userNames(d: TestDaemon): Promise<string[]> {
  return (await d.request('GET', '/api/v1/users?limit=100')).json.users.map((u: { userName: string }) => u.userName).filter((n: string) => n !== 'supervisor').sort();
}

describe('enforcement: the system id is bound to the host', function () {
  this.timeout(180_000);

  it('keeps the id when one component changes; a clone that shares only the machine id is another appliance', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbxd-host-'));
    let d = await TestDaemon.start({ config: { host: host(HOST_A, dir) } });
    try {
      const idA = d.systemId;
      expect(idA).to.match(/^[0-9A-F]{4}(-[0-9A-F]{4}){3}$/);
      await d.installLicense({ licenseId: 'LIC-A', quantities: { users: 10, 'devices.cisco': 0, 'devices.unify': 0 } });
      await d.stop();

      host({ ...HOST_A, mac: '52:54:00:99:99:99' }, dir); // a new network card
      d = await TestDaemon.start({ dataDir: d.dataDir, config: { host: host({ ...HOST_A, mac: '52:54:00:99:99:99' }, dir) } });
      expect(d.systemId, 'one component changed: same id').to.equal(idA);
      expect((await d.status()).mode).to.equal('licensed');
      expect(d.output.join('\n')).to.contain('host components changed within the tolerance');
      await d.stop();

      // A clone: the image (and so /etc/machine-id) is the same, DMI UUID and MAC are new.
      const clone = { machineId: HOST_A.machineId, productUuid: '11111111-2222-4333-8444-555555555555', mac: '52:54:00:77:77:77' };
      d = await TestDaemon.start({ dataDir: d.dataDir, config: { host: host(clone, dir) } });
      const s = await d.status();
      expect(d.systemId).to.not.equal(idA);
      expect(s.mode).to.equal('entry');
      expect(s.reason.code).to.equal('MODE_FOREIGN_DATA');
      expect(s.foreignData).to.deep.equal({ systemId: idA });
    } finally {
      await d.dispose();
    }
  });

  it("runs B in Entry with the rehost reason on A's data folder, deletes nothing, and a rehost license brings it back", async () => {
    const a = await TestDaemon.start({ config: { host: host(HOST_A) } });
    const idA = a.systemId;
    await a.installLicense({ licenseId: 'LIC-A', quantities: { users: 10, 'devices.cisco': 0, 'devices.unify': 0 } });
    await addUsers(a, ['anna', 'bernd', 'clara']);
    await a.stop();
    const copy = mkdtempSync(join(tmpdir(), 'pbxd-copy-'));
    cpSync(a.dataDir, copy, { recursive: true });
    let b = await TestDaemon.start({ dataDir: copy, config: { host: host(HOST_B) } });
    try {
      const idB = b.systemId;
      expect(idB).to.not.equal(idA);
      const s = await b.status();
      expect(s.mode).to.equal('entry');
      expect(s.reason).to.deep.equal({
        code: 'MODE_FOREIGN_DATA',
        en: `This data comes from another appliance (system ${idA}); request a rehost license for ${idB}.`,
        de: `Diese Daten stammen von einer anderen Anlage (System ${idA}); fordern Sie eine Rehost-Lizenz für ${idB} an.`,
      });
      expect(s.warnings.map((w: { code: string }) => w.code)).to.include('FOREIGN_DATA');
      expect(s.codes.find((c: { code: string }) => c.code === 'users').total, 'Entry allowance').to.equal(5);
      expect(await userNames(b), 'nothing deleted').to.deep.equal(['anna', 'bernd', 'clara']);

      // A's license, even a new one, does not fit this appliance.
      const forA = await b.request('POST', '/api/v1/license', { raw: b.license({ systemId: idA }) });
      expect(forA.json.error.code).to.equal('LIC_SYSTEM_ID_MISMATCH');

      const rehost = await b.request('POST', '/api/v1/license', { raw: b.license({ systemId: idB, rehostOf: idA, licenseId: 'LIC-B-REHOST', quantities: { users: 10, 'devices.cisco': 0, 'devices.unify': 0 } }) });
      expect(rehost.status, rehost.text).to.equal(200);
      const after = await b.status();
      expect(after.mode).to.equal('licensed');
      expect(after.foreignData).to.equal(null);
      expect(after.systemId).to.equal(idB);
      expect(await userNames(b)).to.deep.equal(['anna', 'bernd', 'clara']);

      b = await b.restart();
      expect(b.systemId).to.equal(idB);
      expect((await b.status()).mode, 'bound to B for good').to.equal('licensed');
    } finally {
      await b.dispose();
      await a.dispose();
    }
  });

  for (const [how, tamper] of [
    ['deleted', "DELETE FROM meta WHERE key = 'host_fingerprint'"],
    ['emptied', "UPDATE meta SET value = '{}' WHERE key = 'host_fingerprint'"],
  ])
    it(`does not adopt A's copied folder on B after the binding was ${how} with sqlite3`, async () => {
      const a = await TestDaemon.start({ config: { host: host(HOST_A) } });
      const idA = a.systemId;
      await a.installLicense({ licenseId: 'LIC-A', quantities: { users: 10, 'devices.cisco': 0, 'devices.unify': 0 } });
      await a.stop();
      const copy = mkdtempSync(join(tmpdir(), 'pbxd-copy-'));
      cpSync(a.dataDir, copy, { recursive: true });
      // What root can do to a copied folder without touching pbxd's code: remove the host binding.
      await new Promise<void>((resolve, reject) => {
        const db = new sqlite3.Database(join(copy, 'pbxd.db'), sqlite3.OPEN_READWRITE, (err) => {
          if (err) return reject(err);
          db.run(tamper!, (e) => db.close(() => (e ? reject(e) : resolve())));
        });
      });
      const b = await TestDaemon.start({ dataDir: copy, config: { host: host(HOST_B) } });
      try {
        expect(b.systemId, 'B keeps its own id').to.not.equal(idA);
        const s = await b.status();
        expect(s.mode).to.equal('entry');
        expect(s.reason.code).to.equal('MODE_FOREIGN_DATA');
      } finally {
        await b.dispose();
        await a.dispose();
      }
    });

  it("does not take A's system id when root writes it into B's own database with sqlite3", async () => {
    const a = await TestDaemon.start({ config: { host: host(HOST_A) } });
    const idA = a.systemId;
    await a.dispose();
    const b = await TestDaemon.start({ config: { host: host(HOST_B) } });
    const idB = b.systemId;
    await b.stop();
    await new Promise<void>((resolve, reject) => {
      const db = new sqlite3.Database(join(b.dataDir, 'pbxd.db'), sqlite3.OPEN_READWRITE, (err) => {
        if (err) return reject(err);
        db.run("UPDATE meta SET value = ? WHERE key = 'system_id'", [idA], (e) => db.close(() => (e ? reject(e) : resolve())));
      });
    });
    const again = await TestDaemon.start({ dataDir: b.dataDir, config: { host: host(HOST_B) } });
    try {
      expect(again.systemId, "B's own id, so A's licenses do not fit").to.equal(idB);
      const s = await again.status();
      expect(s.mode).to.equal('entry');
      expect(s.reason.code).to.equal('MODE_FOREIGN_DATA');
    } finally {
      await again.dispose();
    }
  });

  it("pbxctl backup restore names both systems and asks for --foreign before restoring A's backup on B", async () => {
    const a = await TestDaemon.start({ config: { host: host(HOST_A) } });
    const idA = a.systemId;
    await a.installLicense({ licenseId: 'LIC-A', quantities: { users: 10, 'devices.cisco': 0, 'devices.unify': 0 } });
    await addUsers(a, ['anna']);
    const made = JSON.parse((await a.ctl(['backup', 'now', '--json'])).stdout).backup.path as string;
    const backup = join(mkdtempSync(join(tmpdir(), 'pbxd-backup-')), 'from-a.db');
    cpSync(made, backup);
    await a.dispose();

    let b = await TestDaemon.start({ config: { host: host(HOST_B) } });
    try {
      const idB = b.systemId;
      await addUsers(b, ['bea']);
      await b.stop();
      const refused = await b.ctl(['backup', 'restore', backup, '--config', b.configFile]);
      expect(refused.code).to.not.equal(0);
      const said = refused.stdout + refused.stderr;
      expect(said).to.contain(`comes from another appliance (system ${idA})`).and.contain(`rehost license for ${idB}`).and.contain('--foreign');
      b = await TestDaemon.start({ dataDir: b.dataDir, config: { host: host(HOST_B) } });
      expect(await userNames(b), 'nothing was changed').to.deep.equal(['bea']);
      await b.stop();

      const done = await b.ctl(['backup', 'restore', backup, '--config', b.configFile, '--foreign']);
      expect(done.code, done.stderr).to.equal(0);
      expect(done.stdout).to.contain(`rehost license for ${idB}`);
      b = await TestDaemon.start({ dataDir: b.dataDir, config: { host: host(HOST_B) } });
      const s = await b.status();
      expect(b.systemId).to.equal(idB);
      expect(s.reason.code).to.equal('MODE_FOREIGN_DATA');
      expect(await userNames(b)).to.deep.equal(['anna']);
    } finally {
      await b.dispose();
    }
  });

  it('the usage report carries one hash of the host fingerprint, never its components', async () => {
    const d = await TestDaemon.start({ config: { host: host(HOST_A) } });
    try {
      const r = await d.ctl(['usage', 'report', '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.report.systemId).to.equal(d.systemId);
      expect(doc.report.hostFingerprint).to.match(/^[0-9a-f]{64}$/);
      const text = r.stdout.toLowerCase();
      for (const v of [HOST_A.machineId, HOST_A.productUuid, HOST_A.mac]) expect(text).to.not.contain(v);
      const db = ['pbxd.db', 'pbxd.db-wal'].map((f) => (existsSync(join(d.dataDir, f)) ? readFileSync(join(d.dataDir, f)).toString('latin1') : '')).join('').toLowerCase();
      for (const v of [HOST_A.machineId, HOST_A.productUuid, HOST_A.mac]) expect(db, 'not stored in clear either').to.not.contain(v);
    } finally {
      await d.dispose();
    }
  });
});
