import { expect } from 'chai';
import type { Page, WebSocketRoute } from 'playwright-core';
import { TestDaemon } from './support/daemon.js';
import http from 'node:http';
import { join } from 'node:path';
import { ARTIFACTS, browserSuite, markDocument, screenshot, see, stillSameDocument } from './support/browser.js';
import { apiOf } from './support/api.js';

/** A request as a phone sends it (node:http: no User-Agent, nothing but Host). */
function phoneGet(d: TestDaemon, path: string): Promise<{ status: number }> {
  const address = d.listeners.provisioning_http!;
  const i = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    http.get({ host: address.slice(0, i), port: Number(address.slice(i + 1)), path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    }).on('error', reject);
  });
}

describe('web UI in a real browser @slow', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  // These tests start on the license page; the overview (the first page) has its own tests.
  const { open } = browserSuite(async () => (d = await TestDaemon.start()), { path: '/#/license' });
  const api = apiOf(() => d);

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

  it('shows a refused upload with its reason and remedy in the dialog, and a staging by someone else', async () => {
    const { page } = await open();
    await page.locator('#upload-open').click();
    const other = d.license({ systemId: 'AAAA-BBBB-CCCC-DDDD' });
    await page.getByLabel('License file').setInputFiles({ name: 'other.lic', mimeType: 'text/plain', buffer: Buffer.from(other) });
    await page.locator('#upload-submit').click();
    await see(page, '#upload-message .refusal');
    expect(await page.locator('#upload-message .refusal').getAttribute('data-code')).to.equal('LIC_SYSTEM_ID_MISMATCH');
    expect(await page.locator('#upload-message .refusal').innerText()).to.contain(`this appliance is ${d.systemId}`);

    // A valid file is staged; when someone else stages another meanwhile, the dialog says so before Activate fails.
    await page.getByLabel('License file').setInputFiles({ name: 'ok.lic', mimeType: 'text/plain', buffer: Buffer.from(d.license({ edition: 'Enterprise' })) });
    await page.locator('#upload-submit').click();
    await see(page, '#staged-changes');
    await d.request('POST', '/api/v1/license/stage', { raw: d.license({ edition: 'Other' }) });
    await see(page, '#upload-replaced', 'admin has uploaded another license meanwhile');
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
    expect(routed.length, 'the page opened its socket through the route').to.be.greaterThan(0);
    for (const ws of routed.splice(0)) await ws.close();
    await see(page, '#live[data-state=off]');
    await d.installLicense({ edition: 'Professional', quantities: { users: 77 } });
    // A second page with its line intact shows the news: it has gone out, and the cut page missed it.
    await see((await open()).page, '#status-edition', 'Professional');
    expect(await page.locator('#status-edition').textContent(), 'no news while the line is cut').to.not.equal('Professional');

    cut = false;
    await page.locator('#live[data-state=on]').waitFor({ timeout: 10_000 });
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
    await page.getByLabel('Action').selectOption('license.');
    await page.waitForFunction(() => [...document.querySelectorAll('#audit-table tbody tr')].every((r) => (r as HTMLElement).dataset.action!.startsWith('license.')));
    expect(await actions()).to.include.members(['license.stage', 'license.activate']);
    await page.getByLabel('Action').selectOption('');
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

  // ── users and per-user licenses ──

  const header = (page: Page, code: string) => page.locator(`#ul-count-${code}`).textContent();
  const box = (page: Page, user: string, code: string) => page.locator(`#ul-table input[data-user="${user}"][data-code="${code}"]`);
  const holds = async (user: string, code: string) => (await api('GET', `/user-licenses?q=${user}`)).users.find((u: any) => u.userName === user).licenses[code];

  it('per-user licenses: header counts follow the ticks, Save applies, over quota is refused plainly, Reset discards', async () => {
    await d.installLicense({ edition: 'Enterprise', quantities: { users: 20 }, perUser: { clientbundle: 3, vap: 2 } });
    for (const [u, f, l] of [['anna.adler', 'Anna', 'Adler'], ['bernd.bauer', 'Bernd', 'Bauer'], ['carla.cruz', 'Carla', 'Cruz'], ['dora.dorn', 'Dora', 'Dorn'], ['emil.eck', 'Emil', 'Eck']])
      await api('POST', '/users', { userName: u, firstName: f, lastName: l });
    await api('POST', '/user-licenses', { changes: [{ userName: 'anna.adler', code: 'clientbundle', assigned: true }, { userName: 'bernd.bauer', code: 'clientbundle', assigned: true }] });

    const { page, errors } = await open();
    await see(page, '#ul-table');
    expect(await page.locator('#ul-head-clientbundle').innerText()).to.equal('Client bundle (2/3)');
    expect(await header(page, 'vap')).to.equal('(0/2)');
    expect(await page.locator('#ul-table thead th').allInnerTexts()).to.deep.equal(['User name', 'First name', 'Last name', 'Client bundle (2/3)', 'Operator console (0/2)']);
    expect(await box(page, 'anna.adler', 'clientbundle').isChecked()).to.equal(true);

    // Ticking counts before saving; one too many is shown in the header and refused by the server.
    await box(page, 'carla.cruz', 'clientbundle').check();
    expect(await header(page, 'clientbundle')).to.equal('(3/3)');
    await box(page, 'dora.dorn', 'clientbundle').check();
    expect(await header(page, 'clientbundle')).to.equal('(4/3)');
    expect(await page.locator('#ul-head-clientbundle').getAttribute('class')).to.contain('over');
    await box(page, 'dora.dorn', 'vap').check();
    expect(await header(page, 'vap')).to.equal('(1/2)');
    await page.locator('#ul-save').click();
    await see(page, '#ul-message .refusal');
    expect(await page.locator('#ul-message .refusal').getAttribute('data-code')).to.equal('USERLIC_QUOTA_EXCEEDED');
    expect(await page.locator('#ul-message .refusal').innerText()).to.contain('Client bundle would use 4 of 3 (1 too many)');
    await screenshot(page, 'userlic-refused');
    expect(await holds('carla.cruz', 'clientbundle'), 'a refused batch changes nothing').to.equal(false);
    expect(await holds('dora.dorn', 'vap')).to.equal(false);

    await page.locator('#ul-reset').click();
    expect(await header(page, 'clientbundle')).to.equal('(2/3)');
    expect(await header(page, 'vap')).to.equal('(0/2)');
    expect(await box(page, 'dora.dorn', 'clientbundle').isChecked()).to.equal(false);
    expect(await page.locator('#ul-message .refusal').count()).to.equal(0);

    await box(page, 'carla.cruz', 'clientbundle').check();
    await box(page, 'carla.cruz', 'vap').check();
    await page.locator('#ul-save').click();
    await see(page, '#ul-saved', 'Saved 2 changes.');
    expect(await header(page, 'clientbundle')).to.equal('(3/3)');
    expect(await header(page, 'vap')).to.equal('(1/2)');
    expect(await holds('carla.cruz', 'vap')).to.equal(true);
    expect(await page.locator('#ul-save').isDisabled(), 'nothing left to save').to.equal(true);

    await page.getByLabel('Filter').fill('dorn');
    await page.waitForFunction(() => document.querySelectorAll('#ul-table tbody tr').length === 1);
    expect(await page.locator('#ul-table tbody tr').getAttribute('data-user')).to.equal('dora.dorn');
    await page.getByLabel('Filter').fill('');
    await page.waitForFunction(() => document.querySelectorAll('#ul-table tbody tr').length === 6); // five users and the supervisor
    await page.locator('#ul-message').evaluate((n) => n.replaceChildren());
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await screenshot(page, 'license-table');
    await page.screenshot({ path: join(ARTIFACTS, 'readme-license.png') }); // the license page, for a look by hand
    expect(errors).to.deep.equal([]);
  });

  it('per-user licenses: a change through the API shows in another browser at once, unsaved ticks stay', async () => {
    const a = await open();
    const b = await open();
    await see(b.page, '#ul-table');
    await markDocument(b.page);
    await box(b.page, 'emil.eck', 'vap').check(); // unsaved in b
    expect(await header(b.page, 'vap')).to.equal('(2/2)');
    await api('POST', '/user-licenses', { changes: [{ userName: 'anna.adler', code: 'vap', assigned: true }, { userName: 'bernd.bauer', code: 'clientbundle', assigned: false }] });
    await b.page.waitForFunction(() => (document.querySelector('#ul-table input[data-user="anna.adler"][data-code="vap"]') as HTMLInputElement)?.checked);
    await see(b.page, '#ul-count-clientbundle', '(2/3)');
    await see(b.page, '#ul-count-vap', '(3/2)'); // 2 saved + b's own unsaved tick
    expect(await box(b.page, 'bernd.bauer', 'clientbundle').isChecked()).to.equal(false);
    expect(await box(b.page, 'emil.eck', 'vap').isChecked(), "b's unsaved tick is kept").to.equal(true);
    await see(a.page, '#ul-count-vap', '(2/2)');
    expect(await stillSameDocument(b.page)).to.equal(true);
  });

  it('upload: a license that grants less lists per code how many to remove and who holds them, and removes them on activation', async () => {
    // In use now: clientbundle 2 (anna, carla), vap 2 (anna, carla).
    const { page } = await open();
    await see(page, '#ul-table');
    await page.locator('#upload-open').click();
    const smaller = d.license({ edition: 'Standard', quantities: { users: 20 }, perUser: { clientbundle: 1, vap: 2 } });
    await page.getByLabel('License file').setInputFiles({ name: 'smaller.lic', mimeType: 'text/plain', buffer: Buffer.from(smaller) });
    await page.locator('#upload-submit').click();
    await see(page, '#overuse fieldset[data-code=clientbundle]');
    const legend = await page.locator('#overuse fieldset[data-code=clientbundle] legend').innerText();
    expect(legend).to.equal('Client bundle: 2 in use, new license grants 1 — remove 1');
    const holders = page.locator('#overuse fieldset[data-code=clientbundle] input[type=checkbox]');
    expect(await holders.count()).to.equal(2);
    expect(await page.locator('#overuse fieldset[data-code=clientbundle]').innerText()).to.contain('Anna Adler · anna.adler').and.to.contain('Carla Cruz · carla.cruz');
    await screenshot(page, 'upload-overuse');

    // Nobody chosen: the server refuses and says so; then choose carla and activate.
    for (const cb of await holders.all()) await cb.uncheck();
    expect(await page.locator('#over-count-clientbundle').textContent()).to.equal('0 of 1 selected');
    await page.locator('#upload-activate').click();
    await see(page, '#upload-message .refusal');
    expect(await page.locator('#upload-message .refusal').getAttribute('data-code')).to.equal('LIC_OVERUSED');
    for (const cb of await page.locator('#overuse fieldset[data-code=clientbundle] input[type=checkbox]').all()) await cb.uncheck();
    await page.locator('#overuse input[data-holder="carla.cruz"]').check();
    await page.locator('#upload-activate').click();
    await see(page, '#status-edition', 'Standard');
    await see(page, '#ul-count-clientbundle', '(1/1)');
    expect(await holds('carla.cruz', 'clientbundle')).to.equal(false);
    expect(await holds('anna.adler', 'clientbundle')).to.equal(true);
    expect(await box(page, 'carla.cruz', 'clientbundle').isChecked()).to.equal(false);
  });

  it('users: approves selected pending users, refuses plainly when no seat is free, approves as many as fit', async () => {
    await d.installLicense({ edition: 'Standard', quantities: { users: 7 }, perUser: { clientbundle: 1, vap: 2 } });
    // 5 active; an import of 4 more: 2 fit, 2 wait.
    const imported = await api('POST', '/users/import', { users: [{ userName: 'fritz.fink' }, { userName: 'gina.gold' }, { userName: 'hans.hahn', firstName: 'Hans' }, { userName: 'ida.igel', firstName: 'Ida' }] });
    expect(imported.pending).to.deep.equal(['hans.hahn', 'ida.igel']);
    const { page, errors } = await open();
    await page.locator('#nav-users').click();
    await see(page, '#pending-table');
    await see(page, '#seats', '7 of 7 user seats in use');
    expect(await page.locator('#pending-table tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.user))).to.deep.equal(['hans.hahn', 'ida.igel']);

    await page.getByLabel('Select hans.hahn').check();
    await page.locator('#approve-selected').click();
    await see(page, '#pending-message .refusal');
    expect(await page.locator('#pending-message .refusal').getAttribute('data-code')).to.equal('SEATS_APPROVAL_EXCEEDS');
    await screenshot(page, 'users-refused');

    // A seat frees up elsewhere (another admin): the count updates by itself, then approval works.
    await api('DELETE', '/users/emil.eck');
    await see(page, '#seats', '6 of 7 user seats in use');
    await page.locator('#approve-selected').click();
    await see(page, '#approved', 'Approved 1: hans.hahn');
    await page.waitForFunction(() => document.querySelectorAll('#pending-table tbody tr').length === 1);
    await see(page, '#seats', '7 of 7 user seats in use');

    await api('DELETE', '/users/dora.dorn');
    await see(page, '#seats', '6 of 7');
    await page.locator('#approve-fit').click();
    await see(page, '#approved', 'Approved 1: ida.igel');
    await see(page, '#pending-none');
    expect((await api('GET', '/users?status=pending')).total).to.equal(0);

    // Tenants' pools, live from the API.
    await api('PUT', '/tenants/acme', { seats: 3 });
    await see(page, '#tenants-table tr[data-tenant=acme]', '0 of 3 in use');
    await see(page, '#unpooled', '4 seats are not in any pool.');
    await screenshot(page, 'users');
    expect(errors).to.deep.equal([]);
  });

  it('devices: a phone appears live with its license state; assign, release and block from the page, events in the feed', async () => {
    const { page, errors } = await open();
    await page.locator('#nav-devices').click();
    await page.locator('#devices-table, #devices-none, #devices-unavailable').first().waitFor({ timeout: 10_000 });
    if ((await d.request('GET', '/api/v1/devices')).status === 404) {
      // This build has no provisioning service: the page says so instead of failing.
      expect(await page.locator('#devices-unavailable').innerText()).to.equal('Provisioning is not available on this appliance.');
      await screenshot(page, 'devices');
      return;
    }
    await d.installLicense({ edition: 'Standard', quantities: { users: 10, 'devices.cisco': 1 }, perUser: { clientbundle: 5, vap: 5 } });
    const mac = '00562b0436a1';
    await markDocument(page);
    // A Cisco phone asks for its configuration: unknown, recorded, refused; the page shows it at once.
    expect((await phoneGet(d, `/SEP${mac.toUpperCase()}.cnf.xml`)).status).to.equal(404);
    await see(page, `#devices-table tr[data-mac="${mac}"][data-state=unassigned]`);
    await see(page, `#prov-feed li.unknown[data-mac="${mac}"]`, 'Unknown device');

    const row = page.locator(`#devices-table tr[data-mac="${mac}"]`);
    await page.getByLabel(`User of device ${mac}`).fill('anna.adler');
    await row.getByRole('button', { name: 'Assign' }).click();
    await see(page, `#devices-table tr[data-mac="${mac}"][data-state=waiting]`);
    expect((await phoneGet(d, `/SEP${mac.toUpperCase()}.cnf.xml`)).status).to.equal(200);
    await see(page, `#devices-table tr[data-mac="${mac}"][data-state=licensed]`, 'Licensed');
    await see(page, `#prov-feed li.served[data-mac="${mac}"]`);
    await screenshot(page, 'devices');

    await row.getByRole('button', { name: 'Release license' }).click();
    await see(page, '#confirm-dialog[open]', `Release the license of 00:56:2B:04:36:A1?`);
    await page.locator('#confirm-ok').click();
    await see(page, `#devices-table tr[data-mac="${mac}"][data-state=unassigned]`);
    await page.locator(`#devices-table tr[data-mac="${mac}"]`).getByRole('button', { name: 'Block' }).click();
    await page.locator('#confirm-ok').click();
    await see(page, `#devices-table tr[data-mac="${mac}"][data-state=blocked]`, 'Blocked');
    const list = (await d.request('GET', '/api/v1/devices')).json.devices;
    expect(list.find((x: any) => x.mac === mac).licenseState).to.equal('blocked');
    expect(await stillSameDocument(page)).to.equal(true);
    expect(errors).to.deep.equal([]);
  });

  it('shows a provisional license, then the grace countdown on every page when it expires, without reload', async () => {
    const hour = 3600_000;
    await d.installLicense({ edition: 'Standard', kind: 'provisional', expiresAt: new Date(Date.now() + hour).toISOString().replace(/\.\d+Z$/, 'Z'), quantities: { users: 10 }, perUser: { clientbundle: 5, vap: 5 } });
    const { page } = await open();
    await see(page, '#status-kind', 'Provisional');
    await page.locator('#nav-users').click();
    await see(page, 'h1', 'Users');
    await markDocument(page);
    try {
      await d.setClock(new Date(Date.now() + 2 * hour));
      await see(page, '#grace-banner', 'Grace period: 14 day(s) left.');
      await page.locator('#nav-license').click();
      await see(page, '#status-mode', 'Grace period');
      await see(page, '#status-grace', '14 day(s) left');
      expect(await stillSameDocument(page)).to.equal(true);
      await screenshot(page, 'license-grace');
    } finally {
      await d.request('PUT', '/api/v1/dev/clock', { body: { offsetMs: 0 } });
    }
  });
});
