import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAY, TestDaemon, iso } from './support/daemon.js';
import { createCa, issueLicense, loadSigner, payloadFromSpec, signPayload } from '../tools/license-issuer.js';
import { DEVELOPMENT_ROOT, LicenseVerifier } from '../daemon/licensing/verifier.js';
import { isRefusal } from '../daemon/kernel/refusal.js';

describe('license file verification', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  let inForce: string;
  before(async () => {
    d = await TestDaemon.start();
    const r = await d.installLicense({ licenseId: 'LIC-IN-FORCE', quantities: { users: 20, 'devices.cisco': 1, 'devices.unify': 1 } });
    inForce = r.json.payload.licenseId;
  });
  after(async () => d.dispose());

  /** Upload `text`; expect refusal `code`; the license in force must be unchanged. */
  async function expectRefused(text: string | Buffer, code: string, status?: number) {
    const r = await d.request('POST', '/api/v1/license', { raw: text });
    expect(r.json?.error?.code, r.text.slice(0, 300)).to.equal(code);
    if (status) expect(r.status).to.equal(status);
    expect(r.json.error.text.de).to.be.a('string').and.not.empty;
    expect(r.json.error.remedy.en).to.be.a('string').and.not.empty;
    const s = await d.status();
    expect(s.licenseId, 'the license in force stays').to.equal(inForce);
    expect(s.mode).to.equal('licensed');
    return r.json.error;
  }

  it('refuses an empty file', async () => expectRefused('', 'LIC_EMPTY', 400));
  it('refuses garbage', async () => expectRefused('this is not a license\n', 'LIC_MALFORMED', 400));
  it('refuses a truncated file', async () => {
    const text = d.license();
    await expectRefused(text.slice(0, Math.floor(text.length * 0.6)), 'LIC_TRUNCATED', 400);
  });
  it('refuses a 10 MB file without reading it all', async () => {
    await expectRefused(Buffer.alloc(10 * 1024 * 1024, 0x41), 'LIC_TOO_LARGE', 413);
  });
  it('refuses a file with one flipped byte in its contents', async () => {
    const text = d.license();
    const i = text.indexOf('\n') + 40; // inside the payload block
    const flipped = text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1);
    await expectRefused(flipped, 'LIC_SIGNATURE_INVALID', 422);
  });
  it('refuses a license signed by an unknown CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbxd-ca-'));
    createCa(dir, 'Evil Corp Root', new Date('2020-01-01'));
    const err = await expectRefused(issueLicense({ systemId: d.systemId }, loadSigner(dir)), 'LIC_UNKNOWN_CA', 422);
    expect(err.message).to.contain('Evil Corp Root');
  });
  it('refuses a license for another system, naming both ids', async () => {
    const err = await expectRefused(issueLicense({ systemId: '4F2A-0000-1111-2222' }), 'LIC_SYSTEM_ID_MISMATCH', 422);
    expect(err.message).to.equal(`This license is for system 4F2A-0000-1111-2222, this appliance is ${d.systemId}.`);
  });
  it('refuses a license expired past its grace period', async () => {
    const now = Date.now();
    await expectRefused(d.license({ issuedAt: iso(now - 400 * DAY), validFrom: iso(now - 400 * DAY), expiresAt: iso(now - 20 * DAY) }), 'LIC_EXPIRED', 422);
  });
  it('accepts a license valid from a later day as scheduled; the license in force stays until then', async () => {
    // SPEC 4: "A file whose valid-from lies ahead is accepted and activates on that day by itself."
    const validFrom = iso(Date.now() + 3 * DAY);
    const r = await d.request('POST', '/api/v1/license', { raw: d.license({ licenseId: 'LIC-LATER', validFrom }) });
    expect(r.status, r.text).to.equal(200);
    expect(r.json.activatesAt).to.equal(validFrom);
    const s = await d.status();
    expect(s.licenseId).to.equal(inForce);
    expect(s.scheduled).to.deep.equal({ licenseId: 'LIC-LATER', activatesAt: validFrom });
  });
  it('refuses a license issued in the future (clock tampering)', async () => {
    await expectRefused(d.license({ issuedAt: iso(Date.now() + 2 * 3600_000) }), 'LIC_ISSUED_IN_FUTURE', 422);
  });
  it('refuses a license whose update service ended before this build', async () => {
    const err = await expectRefused(d.license({ updateServiceUntil: '2025-01-31' }), 'LIC_UPDATE_SERVICE_ENDED', 422);
    expect(err.details.updateServiceUntil).to.equal('2025-01-31');
  });
  it('refuses a license with constraints this build does not know: "needs a newer pbxd"', async () => {
    const err = await expectRefused(d.license({ requires: ['quantities', 'geo-fencing'] }), 'LIC_NEEDS_NEWER_PBXD', 422);
    expect(err.message).to.contain('needs a newer pbxd').and.contain('geo-fencing');
    await expectRefused(d.license({ format: 2 }), 'LIC_NEEDS_NEWER_PBXD', 422);
  });
  it('refuses a genuinely signed payload that is malformed', async () => {
    const p = payloadFromSpec({ systemId: d.systemId }) as unknown as Record<string, unknown>;
    delete p.quantities;
    await expectRefused(signPayload(p, loadSigner()), 'LIC_MALFORMED', 400);
  });
  it('gives every refusal kind its own stable code', async () => {
    const codes = (await d.request('GET', '/api/v1/refusals', { auth: false })).json.codes;
    for (const c of ['LIC_EMPTY', 'LIC_MALFORMED', 'LIC_TRUNCATED', 'LIC_TOO_LARGE', 'LIC_SIGNATURE_INVALID', 'LIC_UNKNOWN_CA', 'LIC_SYSTEM_ID_MISMATCH', 'LIC_EXPIRED', 'LIC_NOT_YET_VALID', 'LIC_ISSUED_IN_FUTURE', 'LIC_UPDATE_SERVICE_ENDED', 'LIC_NEEDS_NEWER_PBXD'])
      expect(codes).to.include(c);
  });

  it('refuses the file whichever single byte is flipped (every position, through the verifier)', () => {
    const systemId = 'AAAA-BBBB-CCCC-DDDD';
    const verifier = new LicenseVerifier({ trustedRoots: [DEVELOPMENT_ROOT], systemId, buildDate: '2026-01-01', maxFutureMinutes: 5 });
    const text = issueLicense({ systemId });
    expect(verifier.verify(text, new Date()).payload.systemId).to.equal(systemId);
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i++) {
      // Alternate the flipped bit so letters turn into other valid base64 letters as well as into invalid ones.
      for (const mask of [i % 2 ? 0x01 : 0x20]) {
        const copy = Buffer.from(bytes);
        copy[i] = copy[i]! ^ mask;
        try {
          verifier.verify(copy, new Date());
          expect.fail(`flipping byte ${i} with ${mask} was accepted`);
        } catch (e) {
          if (!isRefusal(e)) throw e;
        }
      }
    }
  });
});
