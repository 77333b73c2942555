import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { TestDaemon } from './support/daemon.js';
import { browserSuite, screenshot } from './support/browser.js';
import { addUsers, assign, ClientSocket, installClientLicense, issueToken } from './support/sessions.js';

describe('client sessions in the web UI @slow', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  const clients: ClientSocket[] = [];
  const row = (page: Page, user: string, kind: string) => page.locator(`#sessions-table tr[data-user="${user}"][data-kind="${kind}"]`);

  // Registered first, so it runs first: the clients close before the daemon stops.
  after(() => {
    for (const c of clients) c.close();
  });
  const ui = browserSuite(async () => (d = await TestDaemon.start()));
  before(async () => {
    await installClientLicense(d);
    await addUsers(d, [{ userName: 'lena', codes: ['clientbundle', 'vap'] }]);
  });

  it('shows sessions as they open and close, and ends one from the page', async () => {
    const { page, errors, context } = await ui.open();
    try {
      await page.goto('/#/sessions');
      await page.locator('#sessions-none').waitFor();
      const token = await issueToken(d, 'lena');
      const desktop = await ClientSocket.hello(d, { kind: 'desktop', user: 'lena', token });
      const console_ = await ClientSocket.hello(d, { kind: 'console', user: 'lena', token });
      clients.push(desktop, console_);

      await row(page, 'lena', 'desktop').waitFor();
      await row(page, 'lena', 'console').waitFor();
      expect(await row(page, 'lena', 'desktop').locator('td code').textContent()).to.match(/^127\.0\.0\.1:\d+$/);
      expect(await page.locator('#sessions-counts').textContent()).to.contain('1 desktop client');
      await screenshot(page, 'sessions');

      await page.getByRole('button', { name: 'End the Operator console session of lena' }).click();
      // Ending takes a client away: the page asks first.
      await page.locator('#confirm-dialog[open]').waitFor();
      await page.locator('#confirm-ok').click();
      expect((await console_.closeWithin(2000)).code).to.equal(4011);
      await page.locator('#sessions-message .ok').waitFor();
      await row(page, 'lena', 'console').waitFor({ state: 'detached' });

      // Taking the license away elsewhere removes the row without a reload.
      await assign(d, [{ userName: 'lena', code: 'clientbundle', assigned: false }]);
      expect((await desktop.closeWithin(1000)).code).to.equal(4010);
      await page.locator('#sessions-none').waitFor();
      expect(errors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
