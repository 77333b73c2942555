import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { TestDaemon } from './support/daemon.js';
import { ActivationFixture } from './support/lifecycle.js';
import { devSigner, payload, rearmour, sign } from './support/tamper.js';
import { issueRevocationList } from '../tools/license-issuer.js';

const MIN = 60_000;
const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function deleteMeta(d: TestDaemon, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(join(d.dataDir, 'pbxd.db'), (e) => (e ? reject(e) : db.run('DELETE FROM meta WHERE key = ?', [key], (err) => db.close(() => (err ? reject(err) : resolve())))));
  });
}

describe('enforcement: the vendor revocation list', function () {
  this.timeout(120_000);

  it('comes with a license file, is kept across restarts and a restored database, and refuses a replayed license', async () => {
    let d = await TestDaemon.start();
    try {
      const old = d.license({ licenseId: 'LIC-OLD' });
      await d.request('POST', '/api/v1/license', { raw: old });
      const list = issueRevocationList({ licenseIds: ['LIC-OLD'], issuedAt: at(Date.now() - MIN) });
      const r = await d.request('POST', '/api/v1/license', { raw: d.license({ licenseId: 'LIC-NEW' }) + '\n' + list });
      expect(r.status, r.text).to.equal(200);
      const s = await d.status();
      expect(s.licenseId).to.equal('LIC-NEW');
      expect(s.revocationList).to.deep.include({ serials: 0, licenseIds: 1 });

      const replay = await d.request('POST', '/api/v1/license', { raw: old });
      expect(replay.status).to.equal(422);
      expect(replay.json.error.code).to.equal('LIC_REVOKED');
      expect(replay.json.error.message).to.equal('The vendor has revoked the license LIC-OLD.');
      expect((await d.status()).licenseId).to.equal('LIC-NEW');

      // The list survives a restart, and a database restored without it (the copy beside it stands).
      await d.stop();
      await deleteMeta(d, 'revocation_list');
      d = await TestDaemon.start({ dataDir: d.dataDir });
      expect((await d.status()).revocationList).to.deep.include({ licenseIds: 1 });
      expect((await d.request('POST', '/api/v1/license', { raw: old })).json.error.code).to.equal('LIC_REVOKED');
    } finally {
      await d.dispose();
    }
  });

  it('refuses licenses signed by a revoked signing certificate; an older or altered list changes nothing', async () => {
    const d = await TestDaemon.start();
    try {
      const signer = devSigner();
      const serial = new X509Certificate(signer.chain[0]!).serialNumber.toUpperCase();
      const list = issueRevocationList({ serials: [serial], issuedAt: at(Date.now() - 2 * MIN) });
      expect((await d.request('POST', '/api/v1/license', { raw: d.license({ licenseId: 'LIC-A' }) + list })).status).to.equal(200);
      const bySigner = sign(payload(d.systemId, { licenseId: 'LIC-B' }), signer);
      const refused = await d.request('POST', '/api/v1/license', { raw: bySigner });
      expect(refused.json.error.code).to.equal('LIC_REVOKED');
      expect(refused.json.error.message).to.equal(`The vendor has revoked the signing certificate ${serial}.`);

      // An older list (without the serial) does not replace the newer one.
      const older = issueRevocationList({ serials: [], issuedAt: at(Date.now() - 10 * MIN) });
      expect((await d.request('POST', '/api/v1/license', { raw: d.license({ licenseId: 'LIC-C' }) + older })).status).to.equal(200);
      expect((await d.request('POST', '/api/v1/license', { raw: bySigner })).json.error.code).to.equal('LIC_REVOKED');

      // An altered list is refused with the file, and the license in force stays.
      const altered = rearmour(issueRevocationList({ serials: [], issuedAt: at(Date.now()) }), (f) => void (f.payloadBytes[5]! ^= 1), 'revocations');
      const bad = await d.request('POST', '/api/v1/license', { raw: d.license({ licenseId: 'LIC-D' }) + altered });
      expect(bad.json.error.code).to.equal('LIC_SIGNATURE_INVALID');
      const s = await d.status();
      expect(s.licenseId).to.equal('LIC-C');
      expect((await d.request('POST', '/api/v1/license', { raw: bySigner })).json.error.code).to.equal('LIC_REVOKED');
    } finally {
      await d.dispose();
    }
  });

  it('the online check brings a list that revokes the license in force: Entry, saying why, nothing deleted', async () => {
    const server = await ActivationFixture.start();
    const d = await TestDaemon.start({ config: { activation: { url: server.url, timeoutMs: 2000 } } });
    try {
      await d.installLicense({ licenseId: 'LIC-STOLEN' });
      expect((await d.request('POST', '/api/v1/users', { body: { userName: 'anna' } })).status).to.equal(201);
      writeFileSync(join(server.dir, 'revocations.txt'), issueRevocationList({ licenseIds: ['LIC-STOLEN'] }));
      const r = await d.request('POST', '/api/v1/license/check');
      expect(r.status, r.text).to.equal(200);
      const s = await d.status();
      expect(s.mode).to.equal('entry');
      expect(s.reason.code).to.equal('MODE_LICENSE_INVALID');
      expect(s.reason.en).to.equal('The installed license LIC-STOLEN is not valid: The vendor has revoked the license LIC-STOLEN.');
      const users = (await d.request('GET', '/api/v1/users')).json.users.map((u: { userName: string }) => u.userName);
      expect(users).to.include('anna');
    } finally {
      await d.dispose();
      await server.dispose();
    }
  });
});
