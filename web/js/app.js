// The shell: login, navigation, language, the live channel, the mode banner.
// Each page is a module with mount(container, ctx) → { onEvent?, onStatus?, refresh?, unmount? }.
import { io } from '/socket.io/socket.io.esm.min.js';
import { api, ApiError, el, replace, t, tr, loadLanguage, preferredLanguage, languages, lang, setSession, refusalView, fmtDate, learnCodeLabels, modeReason, confirmAction } from './lib.js';
import * as overviewPage from './pages/overview.js';
import * as licensePage from './pages/license.js';
import * as usersPage from './pages/users.js';
import * as devicesPage from './pages/devices.js';
import * as auditPage from './pages/audit.js';
import * as resourcesPage from './pages/resources.js';
import * as sessionsPage from './pages/sessions.js';
import * as adminsPage from './pages/admins.js';

const PAGES = { license: licensePage, users: usersPage, devices: devicesPage, resources: resourcesPage, sessions: sessionsPage, audit: auditPage, admins: adminsPage };
const root = document.getElementById('app');

const state = {
  me: null,
  status: null,
  socket: null,
  guard: null,
  page: null, // { name, handle }
  statusListeners: new Set(),
};

/** Every page in navigation order: the overview first, it is the page after login. */
const NAV = { overview: overviewPage, ...PAGES };

async function boot() {
  await loadLanguage(preferredLanguage());
  try {
    state.me = await api('GET', '/auth/me', undefined, { quiet: true });
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
  }
  if (state.me) startApp();
  else showLogin();
}

// ── login / logout ──

function showLogin(message) {
  stopLive();
  state.me = null;
  document.title = `${t('login.title')} – pbxd`;
  const error = el('div', { id: 'login-error', 'aria-live': 'assertive' }, message ? el('p', { class: 'notice' }, message) : null);
  const name = el('input', { id: 'login-name', name: 'name', autocomplete: 'username', required: true, value: 'admin' });
  const password = el('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = el('form', { class: 'login card', onsubmit: async (ev) => {
    ev.preventDefault();
    replace(error);
    try {
      const r = await api('POST', '/auth/login', { name: name.value, password: password.value }, { quiet: true });
      state.me = { admin: r.admin, csrf: r.csrf };
      startApp();
    } catch (e) {
      replace(error, refusalView(e));
      password.select();
    }
  } },
  el('h1', {}, 'pbxd'),
  el('p', {}, t('login.intro')),
  el('label', { for: 'login-name' }, t('login.name')), name,
  el('label', { for: 'login-password' }, t('login.password')), password,
  error,
  el('button', { type: 'submit', class: 'primary' }, t('login.submit')),
  languagePicker(() => showLogin()));
  replace(root, el('main', { id: 'main', class: 'login-page' }, form));
  root.removeAttribute('aria-busy');
  (name.value ? password : name).focus();
}

async function logout() {
  if (!(await leaveAllowed())) return;
  // The live channel goes first: the server closing it (and any 401 meanwhile) is this logout, not an expired session.
  stopLive();
  setSession(state.me?.csrf, () => {});
  try {
    await api('POST', '/auth/logout', undefined, { quiet: true });
  } catch {
    /* the session is gone either way */
  } finally {
    showLogin(t('login.loggedOut'));
  }
}

/** A page with unsaved edits asks before it is left. */
async function leaveAllowed() {
  if (!state.page?.handle?.unsaved?.()) return true;
  return confirmAction({ title: t('leave.title'), text: t('leave.text'), confirm: t('leave.confirm') });
}

function languagePicker(rerender, allowed = async () => true) {
  const select = el('select', { id: 'lang', onchange: async () => {
    // Switching redraws the page: unsaved edits would go, so the page asks first.
    if (!(await allowed())) {
      select.value = lang;
      return;
    }
    await loadLanguage(select.value, true);
    rerender();
  } }, languages.map((l) => el('option', { value: l, selected: l === lang }, t(`lang.${l}`))));
  return el('span', { class: 'lang' }, el('label', { for: 'lang' }, t('lang.label')), ' ', select);
}

// ── the app ──

function startApp() {
  setSession(state.me.csrf, () => showLogin(t('login.expired')));
  renderShell();
  startLive();
  let shownHash = location.hash;
  window.onhashchange = async () => {
    if (location.hash === shownHash) return;
    if (state.page && currentPageName() !== state.page.name && !(await leaveAllowed())) {
      history.replaceState(null, '', shownHash || '#/overview');
      return;
    }
    shownHash = location.hash;
    document.body.classList.remove('nav-open');
    document.getElementById('nav-toggle')?.setAttribute('aria-expanded', 'false');
    showPage();
    // After navigating, keyboard and screen-reader users land on the new page's heading.
    focusHeading();
  };
  // Closing the tab or reloading with unsaved edits: the browser's own question.
  window.onbeforeunload = (ev) => {
    if (!state.page?.handle?.unsaved?.()) return undefined;
    ev.preventDefault();
    ev.returnValue = '';
    return '';
  };
  showPage();
}

function focusHeading() {
  const h1 = document.querySelector('#main h1');
  if (!h1) return document.getElementById('main')?.focus({ preventScroll: true });
  h1.setAttribute('tabindex', '-1');
  h1.focus({ preventScroll: false });
}

function renderShell() {
  const nav = el('nav', { id: 'nav', 'aria-label': t('nav.label') }, el('ul', {}, Object.keys(NAV).map((p) => el('li', {}, el('a', { href: `#/${p}`, id: `nav-${p}` }, t(`nav.${p}`))))));
  // On a phone the navigation folds behind one button.
  const toggle = el('button', { type: 'button', id: 'nav-toggle', class: 'nav-toggle', 'aria-controls': 'nav', 'aria-expanded': 'false', onclick: () => {
    const open = document.body.classList.toggle('nav-open');
    toggle.setAttribute('aria-expanded', String(open));
  } }, t('nav.menu'));
  const header = el('header', { class: 'top' },
    el('a', { class: 'skip', href: '#main', onclick: (ev) => (ev.preventDefault(), focusHeading()) }, t('nav.skip')),
    el('a', { class: 'brand', href: '#/overview' }, 'pbxd'),
    toggle,
    nav,
    el('div', { class: 'right' },
      el('span', { id: 'live', class: 'live', role: 'status' }, t('live.connecting')),
      languagePicker(() => {
        renderShell();
        showPage();
      }, leaveAllowed),
      el('span', { class: 'who' }, state.me.admin),
      el('button', { id: 'logout', type: 'button', onclick: logout }, t('nav.logout'))));
  replace(root, header, el('div', { id: 'banner', 'aria-live': 'polite' }), el('main', { id: 'main', tabindex: '-1' }));
  root.removeAttribute('aria-busy');
  setLiveIndicator(state.socket?.connected ? 'on' : 'connecting');
  if (state.status) renderBanner(state.status);
}

function currentPageName() {
  const name = location.hash.replace(/^#\/?/, '').split('?')[0];
  return NAV[name] ? name : 'overview';
}

function showPage() {
  const name = currentPageName();
  state.page?.handle?.unmount?.();
  const main = document.getElementById('main');
  if (!main) return;
  replace(main);
  for (const a of document.querySelectorAll('nav a')) {
    if (a.id === `nav-${name}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${t(`nav.${name}`)} – pbxd`;
  const ctx = { status: () => state.status, me: state.me };
  state.page = { name, handle: NAV[name].mount(main, ctx) };
  if (state.status) state.page.handle?.onStatus?.(state.status);
}

// ── live channel ──

function startLive() {
  stopLive();
  // websocket only: the browser sends Origin (checked by the server) and the session cookie with the upgrade.
  const socket = io({ transports: ['websocket'], reconnectionDelay: 500, reconnectionDelayMax: 2000 });
  state.socket = socket;
  let connectedBefore = false;
  socket.on('connect', () => {
    setLiveIndicator('on');
    // After a reconnect the page reloads its data: whatever happened meanwhile is caught up.
    if (connectedBefore) state.page?.handle?.refresh?.();
    connectedBefore = true;
  });
  socket.on('disconnect', (reason) => {
    setLiveIndicator('off');
    // The server ended the session (logout elsewhere, expiry): check, then show login if so.
    if (reason === 'io server disconnect') api('GET', '/auth/me').then(() => socket.connect(), () => {});
  });
  socket.on('connect_error', (err) => {
    setLiveIndicator('off');
    if (err?.data?.code === 'AUTH_REQUIRED') showLogin(t('login.expired'));
  });
  // A connection that closes cleanly during a reconnect attempt (before the handshake)
  // leaves socket.io-client waiting forever; if no attempt was made for a while, start over.
  let lastAttempt = Date.now();
  socket.io.on('reconnect_attempt', () => (lastAttempt = Date.now()));
  state.guard = setInterval(() => {
    if (socket.connected || Date.now() - lastAttempt < 5000) return;
    lastAttempt = Date.now();
    socket.disconnect().connect();
  }, 1000);
  socket.on('status', (s) => {
    state.status = s;
    learnCodeLabels(s.codes);
    renderBanner(s);
    state.page?.handle?.onStatus?.(s);
  });
  socket.onAny((name, events) => {
    if (name === 'status' || name === 'hello') return;
    state.page?.handle?.onEvent?.(name, Array.isArray(events) ? events : [events]);
  });
}

function stopLive() {
  clearInterval(state.guard);
  state.socket?.removeAllListeners();
  state.socket?.disconnect();
  state.socket = null;
}

function setLiveIndicator(s) {
  const node = document.getElementById('live');
  if (!node) return;
  node.dataset.state = s;
  node.textContent = t(`live.${s}`);
}

/** Entry and Grace are said plainly on every page. */
function renderBanner(s) {
  const node = document.getElementById('banner');
  if (!node) return;
  // Warnings (e.g. the public development root is trusted) stand above the mode, on every page.
  const warnings = (s.warnings ?? []).map((w) => el('div', { class: 'banner grace', id: `warning-${w.code}` }, el('strong', {}, tr(w))));
  if (s.mode === 'entry') {
    replace(node, ...warnings, el('div', { class: 'banner entry', id: 'entry-banner' }, el('strong', {}, t('banner.entry')), ' ', modeReason(s), ' ', t('banner.entryHint')));
  } else if (s.mode === 'grace') {
    replace(node, ...warnings, el('div', { class: 'banner grace', id: 'grace-banner' }, el('strong', {}, t('banner.grace', { days: s.graceDaysLeft ?? '?' })), ' ', modeReason(s), ' ', t('banner.graceEnds', { date: fmtDate(s.graceEndsAt) })));
  } else {
    replace(node, ...warnings);
  }
}

boot().catch((e) => {
  replace(root, el('main', { id: 'main' }, refusalView(e)));
});
