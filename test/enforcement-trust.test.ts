import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, TestDaemon } from './support/daemon.js';
import { createCa, issueLicense, loadSigner } from '../tools/license-issuer.js';
import { launchChromium, newAdminPage } from './support/browser.js';

/** The license section of the configuration an appliance is installed with. */
const applianceLicense = JSON.parse(readFileSync(join(ROOT, 'systemd', 'pbxd.json'), 'utf8')).license;

async function metric(d: TestDaemon, name: string): Promise<string | undefined> {
  const text = await (await fetch(`${d.apiUrl}/metrics`)).text();
  return text.split('\n').find((l) => l.startsWith(name + ' '));
}

describe('enforcement: which root licenses must be signed under', function () {
  this.timeout(60_000);

  it('refuses a development-signed license under the appliance configuration, and says nothing about development trust', async () => {
    expect(applianceLicense.trustDevelopmentRoot, 'systemd/pbxd.json ships with it off').to.equal(false);
    const d = await TestDaemon.start({ config: { license: applianceLicense } });
    try {
      const r = await d.request('POST', '/api/v1/license', { raw: d.license({ quantities: { users: 100_000 }, expiresAt: null }) });
      expect(r.status).to.equal(422);
      expect(r.json.error.code).to.equal('LIC_UNKNOWN_CA');
      expect(r.json.error.message).to.equal('The license was signed by "pbxd Development License Root CA", which this appliance does not trust.');
      const s = await d.status();
      expect(s.mode).to.equal('entry');
      expect(s.licenseId).to.equal(null);
      expect(s.developmentRootTrusted).to.equal(null);
      expect(s.warnings).to.deep.equal([]);
      const { browser, close } = await launchChromium();
      try {
        const { page, context } = await newAdminPage(browser, d);
        await page.locator('#entry-banner').waitFor({ timeout: 10_000 });
        expect(await page.locator('#warning-DEVELOPMENT_ROOT_TRUSTED').count(), 'no trust warning on an appliance').to.equal(0);
        await context.close();
      } finally {
        await close();
      }
      expect(await metric(d, 'pbxd_license_development_root_trusted')).to.equal('pbxd_license_development_root_trusted 0');
      expect(d.output.join('\n')).not.to.contain('DEVELOPMENT LICENSE ROOT IS TRUSTED');
    } finally {
      await d.dispose();
    }
  });

  it('accepts a license under the vendor root the configuration names, and still refuses development-signed ones', async () => {
    const ca = mkdtempSync(join(tmpdir(), 'pbxd-vendor-ca-'));
    createCa(ca, 'Vendor License Root', new Date('2024-01-01'));
    const d = await TestDaemon.start({ config: { license: { ...applianceLicense, trustedRoots: [join(ca, 'root.cert.pem')] } } });
    try {
      const ok = await d.request('POST', '/api/v1/license', { raw: issueLicense({ systemId: d.systemId, licenseId: 'LIC-VENDOR' }, loadSigner(ca)) });
      expect(ok.status, ok.text).to.equal(200);
      const dev = await d.request('POST', '/api/v1/license', { raw: d.license({ licenseId: 'LIC-DEV' }) });
      expect(dev.json.error.code).to.equal('LIC_UNKNOWN_CA');
      expect((await d.status()).licenseId).to.equal('LIC-VENDOR');
    } finally {
      await d.dispose();
    }
  });

  it('trusts the development root when running from a checkout, and says so in the log, status, pbxctl and /metrics', async () => {
    const d = await TestDaemon.start();
    try {
      const s = await d.status();
      expect(s.developmentRootTrusted).to.equal('checkout');
      expect(s.warnings.map((w: { code: string }) => w.code)).to.deep.equal(['DEVELOPMENT_ROOT_TRUSTED']);
      expect(s.warnings[0].en).to.contain('pbxd runs from a source checkout').and.contain('anyone can issue licenses');
      expect(s.warnings[0].de).to.contain('Quellcode-Checkout');
      expect(d.output.join('\n')).to.contain('THE PUBLIC DEVELOPMENT LICENSE ROOT IS TRUSTED');
      const ctl = await d.ctl(['status']);
      expect(ctl.stdout.split('\n')[0]).to.match(/^WARNING: This appliance trusts the public development license root/);
      expect(await metric(d, 'pbxd_license_development_root_trusted')).to.equal('pbxd_license_development_root_trusted 1');
      expect((await d.request('POST', '/api/v1/license', { raw: d.license() })).status).to.equal(200);

      // The web UI says it on every page, in the admin's language, above the mode.
      const { browser, close } = await launchChromium();
      try {
        for (const [locale, text] of [['en-US', 'trusts the public development license root'], ['de-DE', 'vertraut der öffentlichen Entwicklungs-Lizenzwurzel']] as const) {
          const { page, errors, context } = await newAdminPage(browser, d, { locale });
          const banner = page.locator('#warning-DEVELOPMENT_ROOT_TRUSTED');
          await banner.waitFor({ timeout: 10_000 });
          expect(await banner.textContent()).to.contain(text);
          expect(errors).to.deep.equal([]);
          await context.close();
        }
      } finally {
        await close();
      }
    } finally {
      await d.dispose();
    }
  });

  it('trusts it when the configuration says so explicitly, naming the setting', async () => {
    const d = await TestDaemon.start({ config: { license: { ...applianceLicense, trustDevelopmentRoot: true } } });
    try {
      const s = await d.status();
      expect(s.developmentRootTrusted).to.equal('config');
      expect(s.warnings[0].en).to.contain('license.trustDevelopmentRoot is true in the configuration');
    } finally {
      await d.dispose();
    }
  });
});
