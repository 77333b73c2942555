import { expect } from 'chai';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { TestDaemon } from './support/daemon.js';
import { launchChromium, markDocument, newAdminPage, screenshot, stillSameDocument } from './support/browser.js';

/** Waits for an element with this text (the UI updates live; a few seconds is generous). */
const see = (page: Page, selector: string, hasText?: string | RegExp) => page.locator(selector, hasText === undefined ? {} : { hasText }).first().waitFor({ timeout: 5000 });

describe('web UI in a real browser', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;
  const contexts: Array<{ close: () => Promise<void> }> = [];
  const open = async (opts: Parameters<typeof newAdminPage>[2] = {}) => {
    const r = await newAdminPage(browser, d, opts);
    contexts.push(r.context);
    return r;
  };

  before(async () => {
    [d, { browser, close: closeBrowser }] = await Promise.all([TestDaemon.start(), launchChromium()]);
  });
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close();
  });
  after(async () => {
    await closeBrowser?.();
    await d?.dispose();
  });

  it('refuses a wrong password plainly, logs in, and logs out again', async () => {
    const { page, errors } = await open({ login: false });
    await see(page, 'form.login');
    await screenshot(page, 'login');
    await page.locator('#login-password').fill('wrong password');
    await page.locator('#login-password').press('Enter');
    await see(page, '#login-error .refusal');
    expect(await page.locator('#login-error .refusal').getAttribute('data-code')).to.equal('AUTH_INVALID');

    await page.locator('#login-password').fill('test-admin-password-1');
    await page.locator('#login-password').press('Enter');
    await see(page, '#live[data-state=on]');
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'pbxd_session')!;
    expect(session.httpOnly).to.equal(true);
    expect(session.sameSite).to.equal('Strict');

    await page.locator('#logout').click();
    await see(page, 'form.login');
    const after = await page.request.get('/api/v1/status');
    expect(after.status(), 'the session is gone on the server').to.equal(401);
    expect(errors).to.deep.equal([]);
  });

  it('says Entry plainly, uploads a license through the dialog, and shows the new status without reload', async () => {
    const { page, errors } = await open();
    await see(page, '#entry-banner', /Entry mode/);
    expect(await page.locator('#status-mode').textContent()).to.equal('Entry');
    expect(await page.locator('#status-reason').textContent()).to.equal('No license is installed.');
    await screenshot(page, 'license-entry');
    await markDocument(page);

    // Keyboard: the dialog opens from the button and the file chooser has a label.
    await page.locator('#upload-open').focus();
    await page.keyboard.press('Enter');
    await see(page, '#upload-dialog[open]');
    const text = d.license({ edition: 'Enterprise', trial: true, quantities: { users: 501, 'devices.cisco': 500, 'devices.unify': 500 }, perUser: { clientbundle: 500, vap: 500 } });
    await page.getByLabel('License file').setInputFiles({ name: 'pbxd.lic', mimeType: 'text/plain', buffer: Buffer.from(text) });
    await page.locator('#upload-submit').click();
    await see(page, '#staged-changes');
    expect(await page.locator('#staged-changes tr[data-code=users]').innerText()).to.match(/User seats\s+5\s+→ 501\s+0/);
    expect(await page.locator('#staged-changes tr[data-code=vap]').innerText()).to.match(/Operator console\s+0\s+→ 500/);
    expect(await page.locator('#status-edition').textContent(), 'staging changes nothing yet').to.equal('Entry');
    await screenshot(page, 'upload-dialog');

    await page.locator('#upload-activate').click();
    await see(page, '#status-edition', 'Enterprise');
    await see(page, '#license-message', /is now active/);
    expect(await page.locator('#upload-dialog').getAttribute('open')).to.equal(null);
    expect(await page.locator('#status-trial').textContent()).to.equal('Trial license');
    expect(await page.locator('#status-mode').textContent()).to.equal('Licensed');
    expect(await page.locator('#status-kind').textContent()).to.equal('Activated');
    expect(await page.locator('#status-operator').innerText()).to.contain('Musterfirma GmbH');
    expect(await page.locator('#status-codes li[data-code=users]').innerText()).to.equal('User seats: 0 of 501 in use');
    expect(await page.locator('#entry-banner').count(), 'the Entry banner is gone').to.equal(0);
    expect(await stillSameDocument(page)).to.equal(true);
    await screenshot(page, 'license');
    expect(errors).to.deep.equal([]);
  });

  it('shows a refused upload with its reason and remedy in the dialog', async () => {
    const { page } = await open();
    await page.locator('#upload-open').click();
    const other = d.license({ systemId: 'AAAA-BBBB-CCCC-DDDD' });
    await page.getByLabel('License file').setInputFiles({ name: 'other.lic', mimeType: 'text/plain', buffer: Buffer.from(other) });
    await page.locator('#upload-submit').click();
    await see(page, '#upload-message .refusal');
    expect(await page.locator('#upload-message .refusal').getAttribute('data-code')).to.equal('LIC_SYSTEM_ID_MISMATCH');
    expect(await page.locator('#upload-message .refusal').innerText()).to.contain(`this appliance is ${d.systemId}`);
    await page.keyboard.press('Escape');
    expect(await page.locator('#upload-dialog').getAttribute('open')).to.equal(null);
  });

  it('shows a change made through the API in a second browser without reload', async () => {
    const a = await open();
    const b = await open();
    await see(b.page, '#status-edition');
    await markDocument(b.page);
    await d.installLicense({ edition: 'Standard', quantities: { users: 120 }, perUser: { clientbundle: 40 } });
    await see(b.page, '#status-edition', 'Standard');
    await see(b.page, '#status-codes li[data-code=users]', '0 of 120 in use');
    await see(a.page, '#status-edition', 'Standard');
    expect(await stillSameDocument(b.page)).to.equal(true);
  });

  it('catches up after its live connection was cut, without reload', async () => {
    const { page } = await open({ login: false });
    // The test stands between the page and the server's socket, so it can cut the line.
    let cut = false;
    const routed: WebSocketRoute[] = [];
    await page.routeWebSocket(/\/socket\.io\//, (ws) => {
      if (cut) return void ws.close();
      routed.push(ws);
      ws.connectToServer();
    });
    await page.reload(); // routes apply to documents loaded after them
    await page.locator('#login-password').fill('test-admin-password-1');
    await page.locator('#login-password').press('Enter');
    await see(page, '#live[data-state=on]');
    await markDocument(page);

    cut = true;
    expect(routed.length, "the page opened its socket through the route").to.be.greaterThan(0);
    for (const ws of routed.splice(0)) await ws.close();
    await see(page, '#live[data-state=off]');
    await d.installLicense({ edition: 'Professional', quantities: { users: 77 } });
    await new Promise((r) => setTimeout(r, 300));
    expect(await page.locator('#status-edition').textContent(), 'no news while the line is cut').to.not.equal('Professional');

    cut = false;
    await see(page, '#live[data-state=on]');
    await see(page, '#status-edition', 'Professional');
    await see(page, '#status-codes li[data-code=users]', 'of 77 in use');
    expect(await stillSameDocument(page)).to.equal(true);
  });

  it('speaks German to a German browser, switches to English, and remembers it', async () => {
    const { page } = await open({ locale: 'de-DE', login: false });
    await see(page, 'form.login', 'Anmelden');
    await page.locator('#login-password').fill('test-admin-password-1');
    await page.locator('#login-password').press('Enter');
    await see(page, '#upload-open', 'Lizenz hochladen');
    await see(page, 'summary', 'Lizenzstatus');
    expect(await page.locator('#nav-audit').textContent()).to.equal('Protokoll');
    await screenshot(page, 'license-de');

    await page.getByLabel('Sprache').selectOption('en');
    await see(page, '#upload-open', 'Upload license');
    await page.reload();
    await see(page, '#upload-open', 'Upload license');
    expect(await page.evaluate(() => document.documentElement.lang)).to.equal('en');
  });

  it('lists the audit log and filters it by action and text', async () => {
    const { page } = await open();
    await page.locator('#nav-audit').click();
    await see(page, '#audit-table');
    const actions = async () => page.locator('#audit-table tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.action));
    expect(await actions()).to.include.members(['license.stage', 'license.activate']);
    await page.getByLabel('Action').fill('license.activate');
    await page.waitForFunction(() => [...document.querySelectorAll('#audit-table tbody tr')].every((r) => (r as HTMLElement).dataset.action === 'license.activate'));
    expect((await actions()).length).to.be.greaterThan(0);
    await page.getByLabel('Action').fill('');
    await page.getByLabel('Filter').fill('Professional');
    await page.waitForFunction(() => document.querySelectorAll('#audit-table tbody tr').length === 2); // its stage and its activation
    await screenshot(page, 'audit');

    // A new entry appears by itself.
    await page.getByLabel('Filter').fill('');
    await see(page, '#audit-table tbody tr[data-action="license.stage"]');
    const before = await page.locator('#audit-table tbody tr').count();
    await d.request('POST', '/api/v1/license/stage', { raw: d.license({ edition: 'Live-Audit' }) });
    await page.waitForFunction((n) => document.querySelectorAll('#audit-table tbody tr').length > n, before);
    await page.locator('#audit-verify-btn').click();
    await see(page, '#audit-verify', /Intact/);
  });

  it('fits a tablet: nothing overflows sideways and the navigation is reachable', async () => {
    const { page } = await open({ width: 800 });
    await see(page, '#status-edition');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).to.be.at.most(0);
    await page.locator('#nav-users').click();
    await see(page, 'h1', 'Users');
    await screenshot(page, 'users-tablet');
  });
});
