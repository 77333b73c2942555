import { expect } from 'chai';
import { TestDaemon } from './support/daemon.js';
import { browserSuite, screenshot, see } from './support/browser.js';
import { apiOf } from './support/api.js';
import { addDevice, ciscoBoot } from './support/provisioning.js';
import { attendantBody } from './support/resources.js';

/**
 * The traps an admin fell into in the web UI, each as the admin met it (issue 18).
 * Every test here failed on the UI before the fix.
 */
describe('web UI: the traps of issue 18', function () {
  this.timeout(90_000);
  let d: TestDaemon;
  const ui = browserSuite(async () => (d = await TestDaemon.start()));
  const open = async (opts: Parameters<typeof ui.open>[0] = {}) => {
    const r = await ui.open(opts);
    // Console errors too: a CSP violation is only a console message.
    const consoleErrors: string[] = [];
    r.page.on('console', (m) => void (m.type() === 'error' && consoleErrors.push(m.text())));
    return { ...r, consoleErrors };
  };
  const api = apiOf(() => d);
  const assignLicenses = (users: string[], code: string) => api('POST', '/user-licenses', { changes: users.map((userName) => ({ userName, code, assigned: true })) });

  before(async () => {
    await d.installLicense({ edition: 'Enterprise', quantities: { users: 200, 'devices.cisco': 5, autoattendants: 3, trunkchannels: 30 }, perUser: { clientbundle: 100, vap: 100, pinprotection: 100, voicemail: 100, callrecording: 100 } });
    const users = Array.from({ length: 60 }, (_, i) => ({ userName: `u${String(i).padStart(2, '0')}`, firstName: `First${i}`, lastName: `Last${i}` }));
    await api('POST', '/users/import', { users });
  });

  it('downgrade: a refused activation keeps the holders the admin chose, and a second click does not swap them', async () => {
    await assignLicenses(['u00', 'u01', 'u02'], 'vap');
    const { page } = await open({ path: '/#/license' });
    await page.locator('#upload-open').click();
    const smaller = d.license({ edition: 'Enterprise', quantities: { users: 200, 'devices.cisco': 5, autoattendants: 3, trunkchannels: 30 }, perUser: { clientbundle: 100, vap: 1, pinprotection: 100, voicemail: 100, callrecording: 100 } });
    await page.getByLabel('License file').setInputFiles({ name: 'smaller.lic', mimeType: 'text/plain', buffer: Buffer.from(smaller) });
    await page.locator('#upload-submit').click();
    await see(page, '#overuse fieldset[data-code=vap]');
    const box = (u: string) => page.locator(`#overuse fieldset[data-code=vap] input[data-holder="${u}"]`);
    const ticked = async () => (await Promise.all(['u00', 'u01', 'u02'].map(async (u) => ((await box(u).isChecked()) ? u : null)))).filter(Boolean);
    expect((await ticked()).length, 'the plan proposes two of three').to.equal(2);
    const [keep, untick] = (await ticked()) as string[];
    await box(untick!).uncheck();
    expect(await page.locator('#over-count-vap').textContent()).to.equal('1 of 2 selected');

    for (let click = 1; click <= 2; click++) {
      await page.locator('#upload-activate').click();
      await page.locator('#upload-message .refusal[data-code=LIC_OVERUSED]').waitFor();
      await page.locator('#upload-activate:not([disabled])').waitFor();
      expect(await ticked(), `after refusal ${click}`).to.deep.equal([keep]);
      expect(await page.locator('#over-count-vap').textContent()).to.equal('1 of 2 selected');
      await page.locator('#upload-message').evaluate((n) => n.replaceChildren());
    }
    const third = ['u00', 'u01', 'u02'].find((u) => u !== keep && u !== untick)!;
    await box(third).check();
    await page.locator('#upload-activate').click();
    await see(page, '#license-message', /is now active/);
    const held = (await api('GET', '/user-licenses?q=u0')).users.filter((u: any) => u.licenses.vap).map((u: any) => u.userName);
    expect(held, 'the one the admin unticked keeps its license').to.deep.equal([untick]);
    // Back to the full license for the other tests.
    await d.installLicense({ edition: 'Enterprise', quantities: { users: 200, 'devices.cisco': 5, autoattendants: 3, trunkchannels: 30 }, perUser: { clientbundle: 100, vap: 100, pinprotection: 100, voicemail: 100, callrecording: 100 } });
  });

  it('upload: after staging the chooser is gone; another file starts over and Activate takes that one; pasted text works', async () => {
    const { page } = await open({ path: '/#/license' });
    await page.locator('#upload-open').click();
    const first = d.license({ edition: 'First-File', quantities: { users: 200 } });
    const second = d.license({ edition: 'Second-File', quantities: { users: 200 } });
    await page.getByLabel('License file').setInputFiles({ name: 'first.lic', mimeType: 'text/plain', buffer: Buffer.from(first) });
    await page.locator('#upload-submit').click();
    await see(page, '#staged-changes');
    expect(await page.locator('#upload-choose').isVisible(), 'the chooser hides once a file is staged').to.equal(false);
    expect(await page.locator('#upload-body').innerText()).to.contain('First-File');

    // Another file picked while the first is staged: the dialog starts over with it.
    await page.locator('#license-file').setInputFiles({ name: 'second.lic', mimeType: 'text/plain', buffer: Buffer.from(second) });
    await page.locator('#upload-submit').waitFor({ state: 'visible' });
    expect(await page.locator('#upload-activate').isVisible()).to.equal(false);
    await page.locator('#upload-submit').click();
    await see(page, '#upload-body', 'Second-File');
    await page.locator('#upload-activate').click();
    await see(page, '#status-edition', 'Second-File');

    // "Choose another file", then paste the text instead of a file.
    await page.locator('#upload-open').click();
    await page.getByLabel('License file').setInputFiles({ name: 'first.lic', mimeType: 'text/plain', buffer: Buffer.from(first) });
    await page.locator('#upload-submit').click();
    await see(page, '#staged-changes');
    await page.locator('#upload-other').click();
    await page.getByLabel('Or paste the license text').fill(d.license({ edition: 'Pasted', quantities: { users: 200, 'devices.cisco': 5, autoattendants: 3, trunkchannels: 30 }, perUser: { clientbundle: 100, vap: 100, pinprotection: 100, voicemail: 100, callrecording: 100 } }));
    await page.locator('#upload-submit').click();
    await see(page, '#upload-body', 'Pasted');
    await page.locator('#upload-activate').click();
    await see(page, '#status-edition', 'Pasted');
  });

  it('logout says "You are logged out", not that the session ended', async () => {
    const { page } = await open();
    const socket = await new Promise<import('playwright-core').WebSocket>((resolve) => {
      page.on('websocket', resolve);
      void page.reload();
    });
    await see(page, '#live[data-state=on]');
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await page.locator('#logout').click();
    await see(page, 'form.login');
    // Barrier: the live socket is closed and nothing is in flight any more (the old UI's
    // "session ended" came from a request made after the socket closed).
    await closed;
    await page.waitForLoadState('networkidle');
    expect(await page.locator('#login-error').innerText()).to.equal('You are logged out.');
  });

  it('per-user table: five codes fit 1280 px, header and action bar stay in view, unsaved cells marked, the batch survives paging', async () => {
    const { page } = await open({ path: '/#/license' });
    await see(page, '#ul-table');
    const boxOf = page.locator('#ul-table-box');
    expect(await page.locator('#ul-table thead th.code').count()).to.equal(5);
    expect(await boxOf.evaluate((b) => b.scrollWidth - b.clientWidth), 'no sideways scrolling at 1280 px').to.be.at.most(0);

    // Scrolled to the bottom of the table and the page: the header row and Save are still visible.
    await boxOf.evaluate((b) => b.scrollTo(0, b.scrollHeight));
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    const headTop = await page.locator('#ul-table thead th').first().evaluate((th) => th.getBoundingClientRect().top - th.closest('#ul-table-box')!.getBoundingClientRect().top);
    expect(Math.abs(headTop), 'the header sticks to the top of the table').to.be.below(2);
    await page.locator('#ul-table tbody tr:last-child input[data-code=pinprotection]').check();
    const inView = async (sel: string) => page.locator(sel).evaluate((n) => {
      const r = n.getBoundingClientRect();
      return r.top >= 0 && r.bottom <= window.innerHeight;
    });
    await page.evaluate(() => window.scrollTo(0, 0));
    expect(await inView('#ul-save'), 'Save is in view at the top of the page').to.equal(true);
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight / 2));
    expect(await inView('#ul-save'), 'Save is in view in the middle of the page').to.equal(true);

    // The unsaved tick looks different from a saved one, and the bar counts it.
    const cell = page.locator('#ul-table tbody tr:last-child input[data-code=pinprotection]').locator('xpath=..');
    expect(await cell.getAttribute('class')).to.contain('unsaved');
    const savedCell = page.locator('#ul-table tbody tr[data-user=u00] input[data-code=vap]').locator('xpath=..');
    const bg = (l: typeof cell) => l.evaluate((n) => getComputedStyle(n).backgroundColor);
    expect(await bg(cell)).to.not.equal(await bg(savedCell));
    expect(await page.locator('#ul-unsaved').textContent()).to.equal('1 unsaved change');

    // Page 2, tick there, back to page 1: both edits are still in the batch.
    const lastUser = await page.locator('#ul-table tbody tr:last-child').getAttribute('data-user');
    await page.locator('#ul-next').click();
    await page.locator('#ul-table tbody tr[data-user=u49]').waitFor();
    await page.locator('#ul-table tbody tr[data-user=u55] input[data-code=callrecording]').check();
    expect(await page.locator('#ul-unsaved').textContent()).to.equal('2 unsaved changes');
    await page.locator('#ul-prev').click();
    await page.locator(`#ul-table tbody tr[data-user="${lastUser}"]`).waitFor();
    expect(await page.locator(`#ul-table tbody tr[data-user="${lastUser}"] input[data-code=pinprotection]`).isChecked()).to.equal(true);
    await screenshot(page, 'license-table-unsaved');

    // Leaving asks first; staying keeps the edits; leaving for real goes.
    await page.locator('#nav-users').click();
    await see(page, '#confirm-dialog[open]', 'Leave without saving?');
    await page.keyboard.press('Escape');
    await page.locator('#confirm-dialog').waitFor({ state: 'detached' });
    expect(await page.evaluate(() => location.hash)).to.equal('#/license');
    expect(await page.locator('#ul-unsaved').textContent()).to.equal('2 unsaved changes');
    // Switching the language redraws the page: it asks too.
    await page.getByLabel('Language').selectOption('de');
    await see(page, '#confirm-dialog[open]', 'Leave without saving?');
    await page.locator('#confirm-cancel').click();
    await page.locator('#confirm-dialog').waitFor({ state: 'detached' });
    expect(await page.getByLabel('Language').inputValue()).to.equal('en');
    expect(await page.locator('#ul-unsaved').textContent()).to.equal('2 unsaved changes');

    await page.locator('#ul-save').click();
    await see(page, '#ul-saved', 'Saved 2 changes.');
    expect(await page.locator('#ul-table tbody td.unsaved').count()).to.equal(0);
    const rows = (await api('GET', '/user-licenses?q=u5&limit=20')).users;
    expect(rows.find((u: any) => u.userName === 'u55').licenses.callrecording).to.equal(true);
    await page.locator('#nav-users').click();
    await see(page, 'h1', 'Users');
  });

  it('attendants: no CSP error on the page, and adding one keeps the weekday boxes', async () => {
    const { page, consoleErrors, errors } = await open({ path: '/#/resources' });
    await see(page, '#aa-title');
    await see(page, '#trunk-form');
    const days = () => page.locator('#aa-form input[type=checkbox]').evaluateAll((boxes) => boxes.map((b) => (b as HTMLInputElement).checked));
    expect(await days()).to.deep.equal([true, true, true, true, true, false, false]);
    const body = attendantBody('Hotline', ['+495311239']);
    await page.locator('#aa-name').fill('Hotline');
    await page.locator('#aa-numbers').fill('+495311239');
    await page.locator('#aa-zone').fill(body.schedule.timeZone);
    await page.locator('#aa-forward').fill('100');
    await page.locator('#aa-form button[type=submit]').click();
    await see(page, '#aa-table tr[data-name=Hotline]');
    await page.waitForFunction(() => (document.getElementById('aa-name') as HTMLInputElement).value === '');
    expect(await days(), 'Mon–Fri still ticked').to.deep.equal([true, true, true, true, true, false, false]);
    // A blocked inline style is reported on the console only.
    expect(consoleErrors.filter((e) => /Content Security Policy/i.test(e))).to.deep.equal([]);
    expect(errors).to.deep.equal([]);
  });

  it('German: device feed, audit, refusals, mode reason and counts are worded in German', async () => {
    await addDevice(d, '00562b0436b2', 'cisco', 'CP-8845');
    await api('POST', '/devices/00562b0436b2/assign', { userName: 'u01' });
    await ciscoBoot(d, '00562b0436b2');
    await ciscoBoot(d, '00562b0436c3'); // unknown: recorded without user
    await api('POST', '/user-licenses', { changes: [{ userName: 'u03', code: 'pinprotection', assigned: true }] });
    const vapHolders = (await api('GET', '/user-licenses?limit=500')).users.filter((u: any) => u.licenses.vap).map((u: any) => u.userName);
    if (vapHolders.length) await api('POST', '/user-licenses', { changes: vapHolders.map((userName: string) => ({ userName, code: 'vap', assigned: false })) });
    await d.installLicense({ edition: 'Enterprise', expiresAt: '2099-06-30T00:00:00Z', quantities: { users: 200, 'devices.cisco': 5, autoattendants: 3, trunkchannels: 30 }, perUser: { clientbundle: 100, vap: 1, pinprotection: 100, voicemail: 100, callrecording: 100 } });

    const { page } = await open({ locale: 'de-DE', path: '/#/devices' });
    await see(page, '#prov-feed li');
    const feed = await page.locator('#prov-feed').innerText();
    expect(feed, feed).to.match(/Konfiguration ausgeliefert(; Lizenz "Cisco-Geräte" belegt)?/);
    expect(feed).to.contain('als Gerät ohne Benutzer erfasst');
    expect(feed).to.not.match(/recorded as unassigned|configuration served|took a/);
    expect(await page.locator('#devices-table').innerText()).to.contain('00:56:2B:04:36:B2').and.to.contain('Cisco');

    await page.locator('#nav-audit').click();
    await see(page, '#audit-table');
    const audit = await page.locator('#audit-table').innerText();
    expect(audit).to.contain('Benutzerlizenzen geändert').and.to.contain('1 Änderung');
    expect(audit).to.not.match(/\b1 changes\b|\bchanges\b/);
    await page.getByLabel('Aktion').selectOption('user.');
    await page.waitForFunction(() => [...document.querySelectorAll('#audit-table tbody tr')].length > 0 && [...document.querySelectorAll('#audit-table tbody tr')].every((r) => (r as HTMLElement).dataset.action!.startsWith('user.')));
    await page.getByLabel('Aktion').selectOption('userlicense.');
    await page.waitForFunction(() => [...document.querySelectorAll('#audit-table tbody tr')].length > 0 && [...document.querySelectorAll('#audit-table tbody tr')].every((r) => (r as HTMLElement).dataset.action!.startsWith('userlicense.')));

    // A refusal that names license codes names them by their German labels.
    await page.locator('#nav-license').click();
    await see(page, '#ul-table');
    await page.locator('#ul-filter').fill('u0');
    await page.waitForFunction(() => document.querySelectorAll('#ul-table tbody tr').length === 10);
    for (const u of ['u04', 'u05']) await page.locator(`#ul-table input[data-user=${u}][data-code=vap]`).check();
    await page.locator('#ul-save').click();
    await see(page, '#ul-message .refusal');
    const refusal = await page.locator('#ul-message .refusal strong').innerText();
    expect(refusal).to.match(/^Nicht gespeichert: Vermittlungsarbeitsplatz würde \d+ von 1 belegen/);
    // The mode reason with a date as a German reader writes it, not an ISO timestamp.
    expect(await page.locator('#status-reason').innerText()).to.equal('Die Lizenz ' + (await d.status()).licenseId + ' ist gültig bis 30.6.2099.');
    await page.locator('#ul-reset').click();
  });
});
