import { expect } from 'chai';
import { TestDaemon } from './support/daemon.js';
import { browserSuite, screenshot, see } from './support/browser.js';
import { addDevice, addUser, assign, keyInUrls, prov, sipPassword } from './support/provisioning.js';

/** The Devices page in headless Chromium: the URLs to set, and the badge of a refused new address. */
describe('provisioning security in the web UI', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  const ui = browserSuite(async () => (d = await TestDaemon.start({ config: { provisioning: { host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0, requireKey: true } } })));

  it('shows the provisioning URLs, and a live badge with "allow new address" that lets the phone in at its new address', async () => {
    await addUser(d, 'gwen', 'Gwen', 'Test');
    const mac = '7c2f80e0fa01';
    await addDevice(d, mac, 'gigaset', 'N870 IP PRO');
    await assign(d, mac, 'gwen');
    const pw = await sipPassword(d, mac);
    const urls = (await d.request('GET', '/api/v1/provisioning/urls')).json.urls;
    const value = urls.find((u: any) => u.module === 'gigaset').value;
    const key = keyInUrls(urls, 'gigaset');
    const get = (from: string) => prov(d, `/${key}/${mac}.xml`, { 'user-agent': `Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;${mac.toUpperCase()}` }, 'GET', from);
    expect((await get('127.0.0.2')).text).to.include(pw);
    await d.request('POST', '/api/v1/provisioning/enrolment/close', { body: { mac } });

    const { context, page, errors } = await ui.open();
    try {
      await page.locator('#nav-devices').click();
      await see(page, `#devices-table tr[data-mac="${mac}"]`);
      await see(page, '#prov-urls-table tr[data-module="gigaset"] code', value);
      expect(await page.locator(`[data-badge="${mac}"]`).count()).to.equal(0);

      // A request from another address: the badge appears live, on the device's row.
      expect((await get('127.0.0.3')).status).to.equal(403);
      await see(page, `#devices-table tr[data-mac="${mac}"] [data-badge="${mac}"]`, 'Asked for from 127.0.0.3');
      await screenshot(page, 'devices-security-badge');
      await page.locator(`[data-badge="${mac}"]`).getByRole('button', { name: 'Allow new address' }).click();
      await see(page, '#prov-security-message .ok', `Device ${mac} may now fetch from its new address.`);
      await page.locator(`[data-badge="${mac}"]`).waitFor({ state: 'detached', timeout: 10_000 });
      expect((await get('127.0.0.3')).text).to.include(pw);
      expect(errors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
