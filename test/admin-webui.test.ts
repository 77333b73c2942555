import { expect } from 'chai';
import { ADMIN_PASSWORD, TestDaemon } from './support/daemon.js';
import { browserSuite, screenshot } from './support/browser.js';

describe('web UI: admins and API tokens @slow', function () {
  this.timeout(90_000);
  let d: TestDaemon;
  const ui = browserSuite(async () => (d = await TestDaemon.start()));

  it('adds, disables and deletes an admin with the current password, refuses the last one, and manages tokens', async () => {
    const { page, context, errors } = await ui.open();
    try {
      await page.goto('/#/admins');
      await page.locator('#admins-table tr[data-name=admin]').waitFor();

      // Without the current password nothing changes, and the refusal says why.
      await page.locator('#admins-new-name').fill('ops');
      await page.locator('#admins-new-password').fill('correct horse battery staple');
      await page.locator('#admins-add button[type=submit]').click();
      await page.locator('#admins-message .refusal[data-code=ADMIN_REAUTH_REQUIRED]').waitFor();

      await page.locator('#admins-current').fill(ADMIN_PASSWORD);
      await page.locator('#admins-new-password').fill('password1234');
      await page.locator('#admins-add button[type=submit]').click();
      await page.locator('#admins-message .refusal[data-code=ADMIN_PASSWORD_WEAK]').waitFor();
      expect(await page.locator('#admins-message').innerText()).to.contain('a common password');

      await page.locator('#admins-new-password').fill('correct horse battery staple');
      await page.locator('#admins-add button[type=submit]').click();
      await page.locator('#admins-table tr[data-name=ops]').waitFor();

      await page.locator('#admins-pw-name').selectOption('ops');
      await page.locator('#admins-pw-new').fill('another fine passphrase');
      await page.locator('#admins-password button[type=submit]').click();
      await page.locator('#admins-message .ok', { hasText: 'password of ops is set' }).waitFor();
      expect((await d.request('POST', '/api/v1/auth/login', { auth: false, body: { name: 'ops', password: 'another fine passphrase' } })).status, 'the new password works').to.equal(200);

      await page.locator('#admins-table tr[data-name=ops] button.toggle').click();
      await page.locator('#admins-table tr[data-name=ops][data-disabled=true]').waitFor();
      expect(await page.locator('#admins-message').innerText()).to.contain('ops is disabled');
      expect((await d.request('GET', '/api/v1/admins')).json.admins.find((a: { name: string }) => a.name === 'ops').disabled).to.equal(true);

      // Deleting asks first, in the page's own dialog (Cancel has the focus).
      await page.locator('#admins-table tr[data-name=admin] button.delete').click();
      await page.locator('#confirm-ok').click();
      await page.locator('#admins-message .refusal[data-code=ADMIN_LAST]').waitFor();
      await page.locator('#admins-table tr[data-name=ops] button.delete').click();
      await page.locator('#confirm-ok').click();
      await page.locator('#admins-table tr[data-name=ops]').waitFor({ state: 'detached' });

      await page.locator('#tokens-label').fill('nagios');
      await page.locator('#tokens-days').fill('30');
      await page.locator('#tokens-create button[type=submit]').click();
      const secret = await page.locator('#tokens-secret').innerText();
      expect((await d.request('GET', '/api/v1/status', { auth: false, headers: { authorization: `Bearer ${secret}` } })).status).to.equal(200);
      await page.locator('#tokens-table tr', { hasText: 'nagios' }).waitFor();
      await screenshot(page, 'admins');
      await page.locator('#tokens-table tr', { hasText: 'nagios' }).locator('button').click();
      await page.locator('#tokens-table tr', { hasText: 'nagios' }).waitFor({ state: 'detached' });
      expect((await d.request('GET', '/api/v1/status', { auth: false, headers: { authorization: `Bearer ${secret}` } })).status, 'revoked').to.equal(401);
      expect(errors).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
