import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { TestDaemon } from './support/daemon.js';
import { browserSuite, screenshot } from './support/browser.js';
import { attendantBody, RESOURCES_LICENSE } from './support/resources.js';

describe('web UI: auto attendants and SIP trunks @slow', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  const ui = browserSuite(async () => (d = await TestDaemon.start()));
  before(async () => {
    await d.installLicense(RESOURCES_LICENSE);
  });

  async function openPage(locale = 'en-US'): Promise<{ page: Page; errors: string[] }> {
    const { page, errors } = await ui.open({ locale });
    await page.locator('#nav-resources').click();
    await page.locator('#aa-title').waitFor();
    return { page, errors };
  }

  it('shows used/total, switches an attendant live at its opening minute, and refuses a trunk over the license plainly', async () => {
    // Wednesday 2026-12-02 06:00 Berlin: closed.
    await d.setClock(new Date('2026-12-02T05:00:00Z'));
    await d.request('POST', '/api/v1/auto-attendants', { body: attendantBody('Zentrale', ['+495311230']) });
    await d.request('POST', '/api/v1/sip-trunks', { body: { name: 'Carrier A', registrar: 'sip.a.example', username: 'a', password: 'ui-secret-a', channels: 20 } });
    const { page, errors } = await openPage();
    await page.locator('#aa-title', { hasText: 'Auto attendants (1 of 2 licensed)' }).waitFor();
    await page.locator('#trunk-title', { hasText: '20 of 30 licensed channels' }).waitFor();
    await page.locator('#aa-table tr[data-name=Zentrale][data-state=closed]').waitFor();

    // 1.5 s before 08:00 Berlin: the page turns to OPEN by itself.
    await d.setClock(new Date('2026-12-02T06:59:58.500Z'));
    await page.locator('#aa-table tr[data-name=Zentrale][data-state=open]').waitFor({ timeout: 10_000 });
    expect(await page.locator('#aa-switched').textContent()).to.equal('Zentrale is now OPEN');

    const fill = async (values: Record<string, string>) => {
      for (const [k, v] of Object.entries(values)) await page.locator(`#trunk-${k}`).fill(v);
      await page.locator('#trunk-form button[type=submit]').click();
    };
    await fill({ name: 'Carrier B', registrar: 'sip.b.example', username: 'b', password: 'ui-secret-b', channels: '11' });
    await page.locator('.refusal[data-code=TRUNK_CHANNELS_EXCEEDED]').waitFor();
    await fill({ name: 'Carrier B', registrar: 'sip.b.example', username: 'b', password: 'ui-secret-b', channels: '10' });
    await page.locator('#trunk-table tr[data-name="Carrier B"]').waitFor();
    await page.locator('#trunk-title', { hasText: '30 of 30 licensed channels' }).waitFor();
    await screenshot(page, 'resources');
    expect(await page.content()).to.not.contain('ui-secret-a');
    expect(errors).to.deep.equal([]);
  });

  it('speaks German', async () => {
    const { page } = await openPage('de-DE');
    await page.locator('#aa-title', { hasText: 'Automatische Vermittlungen (1 von 2 lizenziert)' }).waitFor();
    expect(await page.locator('#aa-table tr[data-name=Zentrale] td').nth(1).textContent()).to.equal('GEÖFFNET');
  });
});
