import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ADMIN_PASSWORD, ROOT, TestDaemon } from './daemon.js';

/** Screenshots of every page land here (gitignored; CI keeps them as artifacts). */
export const ARTIFACTS = join(ROOT, 'test-artifacts');

/**
 * Debian's chromium, headless, with nothing that phones home (there is no
 * network beyond loopback here, and without these flags it keeps trying).
 * Playwright gives each launch a new, empty profile folder of its own (it
 * refuses a --user-data-dir argument) and deletes it on close.
 */
export async function launchChromium(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    browser,
    close: async () => {
      await browser.close();
    },
  };
}

/** A fresh browser profile (own cookies, own localStorage) as an admin would open it. */
export interface AdminPageOptions { locale?: string; width?: number; height?: number; login?: boolean; path?: string; bypassCSP?: boolean }

export async function newAdminPage(browser: Browser, d: TestDaemon, opts: AdminPageOptions = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 }, locale: opts.locale ?? 'en-US', baseURL: d.apiUrl, bypassCSP: opts.bypassCSP ?? false });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(opts.path ?? '/');
  if (opts.login !== false) await login(page);
  return { context, page, errors };
}

/**
 * A suite's daemon and browser: both started in `before` (in parallel) and
 * stopped in `after`; every page opened with `open()` has its own profile
 * and is closed after each test, passed or failed. Register the suite's own
 * `before` after this call (it runs later and sees the daemon).
 */
export function browserSuite(start: () => Promise<TestDaemon> = () => TestDaemon.start(), pageDefaults: AdminPageOptions = {}) {
  const contexts: BrowserContext[] = [];
  let chromium: { browser: Browser; close: () => Promise<void> } | undefined;
  let daemon: TestDaemon | undefined;
  const suite = {
    get d(): TestDaemon {
      if (!daemon) throw new Error('the daemon is not started yet (use it inside a test or a later hook)');
      return daemon;
    },
    get browser(): Browser {
      if (!chromium) throw new Error('the browser is not started yet (use it inside a test or a later hook)');
      return chromium.browser;
    },
    async open(opts: AdminPageOptions = {}) {
      const r = await newAdminPage(suite.browser, suite.d, { ...pageDefaults, ...opts });
      contexts.push(r.context);
      return r;
    },
  };
  before(async () => {
    const [started, launched] = await Promise.allSettled([start(), launchChromium()]);
    // Keep whichever came up, so `after` stops it even when the other failed.
    if (started.status === 'fulfilled') daemon = started.value;
    if (launched.status === 'fulfilled') chromium = launched.value;
    for (const r of [started, launched]) if (r.status === 'rejected') throw r.reason;
  });
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close();
  });
  after(async () => {
    await chromium?.close();
    await daemon?.dispose();
  });
  return suite;
}

/** Wait until `selector` (with `hasText`, if given) is there; a missing one fails with the selector in the message. */
export function see(page: Page, selector: string, hasText?: string | RegExp): Promise<void> {
  return page.locator(selector, hasText === undefined ? {} : { hasText }).first().waitFor({ timeout: 10_000 });
}

export async function login(page: Page, password = ADMIN_PASSWORD): Promise<void> {
  await page.locator('#login-name').fill('admin');
  await page.locator('#login-password').fill(password);
  await page.locator('form.login button[type=submit]').click();
  // attached, not visible: on a phone the indicator sits in the folded menu.
  await page.locator('#live[data-state=on]').waitFor({ state: 'attached' });
}

/** The axe-core engine from node_modules, injected into the page (the page's CSP must be bypassed for it). */
export async function axeViolations(page: Page, impacts = ['serious', 'critical']): Promise<Array<{ id: string; impact: string; help: string; nodes: string[] }>> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: join(ROOT, 'node_modules', 'axe-core', 'axe.min.js') });
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
    return axe.run(document, { resultTypes: ['violations'] });
  });
  return result.violations.filter((v) => impacts.includes(v.impact)).map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `webui-${name}.png`), fullPage: true });
}

/** Marks the document; `stillSameDocument` is false after any reload or navigation away. */
export async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => ((window as unknown as { __pbxdMark: number }).__pbxdMark = 1));
}

export async function stillSameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __pbxdMark?: number }).__pbxdMark === 1);
}
