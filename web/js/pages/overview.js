// The overview, first page after login: mode and why, the expiry countdown, every
// licensed quantity as used/total, phones waiting for a license, open alerts, and a
// 30-day chart of peak users and devices. Live: the status arrives by itself, and
// events that change the alerts reload them.
import { api, debounce, el, fmtDate, fmtNumber, modeReason, refusalView, replace, t, tn, tr } from '../lib.js';

const DAY_MS = 86_400_000;
/** A license expiring within this many days is an open alert. */
const EXPIRY_ALERT_DAYS = 30;
const SVG = 'http://www.w3.org/2000/svg';

const svg = (tag, attrs = {}, ...children) => {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
};

const counts = (users, devices) => ({ users: tn('overview.nUsers', users), devices: tn('overview.nDevices', devices) });

export function mount(main, ctx) {
  const modeBox = el('div', { id: 'ov-mode' });
  const barsBox = el('div', { id: 'ov-bars' });
  const alertsBox = el('div', { id: 'ov-alerts', 'aria-live': 'polite' });
  const chartBox = el('div', { id: 'ov-chart' });
  let status = ctx.status();
  let extra = null; // GET /overview

  replace(main,
    el('div', { class: 'toolbar' }, el('h1', {}, t('overview.title'))),
    el('div', { class: 'overview-grid' },
      el('section', { class: 'card', 'aria-labelledby': 'ov-mode-title' }, el('h2', { id: 'ov-mode-title' }, t('overview.mode')), modeBox),
      el('section', { class: 'card', 'aria-labelledby': 'ov-alerts-title' }, el('h2', { id: 'ov-alerts-title' }, t('overview.alerts')), alertsBox),
      el('section', { class: 'card wide', 'aria-labelledby': 'ov-bars-title' }, el('h2', { id: 'ov-bars-title' }, t('overview.usage')), barsBox),
      el('section', { class: 'card wide', 'aria-labelledby': 'ov-chart-title' }, el('h2', { id: 'ov-chart-title' }, t('overview.chart')), chartBox)));

  function daysLeft(s) {
    if (!s.expiresAt) return null;
    return Math.ceil((Date.parse(s.expiresAt) - Date.parse(s.now ?? new Date().toISOString())) / DAY_MS);
  }

  function renderMode(s) {
    const left = daysLeft(s);
    replace(modeBox,
      el('p', { class: 'big' }, el('span', { id: 'ov-mode-name', class: `mode ${s.mode}` }, t(`mode.${s.mode}`)), ' · ', el('span', { id: 'ov-edition' }, s.edition)),
      el('p', { id: 'ov-reason' }, modeReason(s)),
      el('p', { id: 'ov-expiry' },
        !s.licenseId ? t('overview.noLicense')
          : left === null ? t('license.noExpiry')
          : left > 0 ? tn('overview.expiresIn', left, { date: fmtDate(s.expiresAt) })
          : s.mode === 'grace' ? tn('overview.graceLeft', s.graceDaysLeft ?? 0, { date: fmtDate(s.graceEndsAt) })
          : t('overview.expired', { date: fmtDate(s.expiresAt) })),
      el('p', {}, el('a', { href: '#/license' }, t('overview.toLicense'))));
  }

  function bar(c) {
    const id = `ov-bar-${c.code}`.replace(/[^\w-]/g, '_');
    const over = c.used > c.total;
    return el('div', { class: `bar${over ? ' over' : ''}`, dataset: { code: c.code } },
      el('label', { for: id }, tr(c.label)),
      el('meter', { id, min: '0', max: String(Math.max(c.total, c.used, 1)), value: String(c.used), high: String(Math.max(c.total, 1) * 0.9), optimum: '0' }),
      el('span', { class: 'count', id: `${id}-count` }, t('license.usedOf', { used: fmtNumber(c.used), total: fmtNumber(c.total) })));
  }

  function renderBars(s) {
    const server = s.codes.filter((c) => c.scope === 'server');
    const perUser = s.codes.filter((c) => c.scope === 'user');
    replace(barsBox,
      el('div', { class: 'bars' }, server.map(bar)),
      perUser.length ? [el('h3', {}, t('overview.perUser')), el('div', { class: 'bars' }, perUser.map(bar))] : null);
  }

  function renderAlerts() {
    const s = status;
    if (!s) return;
    const items = [];
    const add = (kind, text, href) => items.push(el('li', { class: `alert ${kind}`, dataset: { alert: kind } }, href ? el('a', { href }, text) : text));
    if (extra?.clock) add('clock', t('msg.clock.behind', { minutes: fmtNumber(extra.clock.behindMinutes), trustedTime: fmtDate(extra.clock.trustedTime, true) }));
    if (s.mode === 'grace') add('grace', tn('overview.alert.grace', s.graceDaysLeft ?? 0, { date: fmtDate(s.graceEndsAt) }), '#/license');
    const left = daysLeft(s);
    if (s.mode === 'licensed' && left !== null && left <= EXPIRY_ALERT_DAYS) add('expiry', tn('overview.alert.expiry', left, { date: fmtDate(s.expiresAt) }), '#/license');
    if (s.mode === 'entry' && s.licenseId) add('entry', modeReason(s), '#/license');
    if (extra?.waitingDevices) add('waiting', tn('overview.alert.waiting', extra.waitingDevices), '#/devices?state=waiting');
    if (extra?.provisioningRejected?.count) add('provisioning', tn('overview.alert.provisioning', extra.provisioningRejected.count), '#/devices');
    if (s.suspendedLicenses) add('suspended', tn('overview.alert.suspended', s.suspendedLicenses), '#/users');
    for (const c of s.codes) if (c.used > c.total) add('over', t('overview.alert.over', { label: tr(c.label), used: fmtNumber(c.used), total: fmtNumber(c.total) }));
    replace(alertsBox, items.length ? el('ul', { id: 'ov-alert-list', class: 'alerts' }, items) : el('p', { id: 'ov-no-alerts', class: 'ok' }, t('overview.noAlerts')));
  }

  function renderChart(peaks) {
    if (!peaks?.length) return replace(chartBox, el('p', { id: 'ov-chart-none', class: 'muted' }, t('overview.chartNone')));
    // 30 days ending today (server time), a gap where nothing was recorded.
    const end = Date.parse(`${(status?.now ?? new Date().toISOString()).slice(0, 10)}T00:00:00Z`);
    const days = Array.from({ length: 30 }, (_, i) => new Date(end - (29 - i) * DAY_MS).toISOString().slice(0, 10));
    const byDay = new Map(peaks.map((p) => [p.day, p]));
    const max = Math.max(1, ...peaks.map((p) => Math.max(p.users, p.devices)));
    const W = 600, H = 160, PAD = 28;
    const x = (i) => PAD + (i * (W - PAD - 8)) / 29;
    const y = (v) => H - PAD - (v * (H - PAD - 10)) / max;
    const line = (key, cls) => {
      const pts = days.map((d, i) => (byDay.has(d) ? `${x(i).toFixed(1)},${y(byDay.get(d)[key]).toFixed(1)}` : null)).filter(Boolean);
      return svg('polyline', { class: cls, points: pts.join(' '), fill: 'none' });
    };
    const dots = (key, cls) => days.flatMap((d, i) => (byDay.has(d) ? [svg('circle', { class: cls, cx: x(i).toFixed(1), cy: y(byDay.get(d)[key]).toFixed(1), r: 2.5 })] : []));
    const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'ov-chart-desc', class: 'chart', id: 'ov-chart-svg' },
      svg('line', { class: 'axis', x1: PAD, y1: H - PAD, x2: W - 8, y2: H - PAD }),
      svg('line', { class: 'axis', x1: PAD, y1: 10, x2: PAD, y2: H - PAD }),
      svg('text', { x: PAD - 4, y: 14, 'text-anchor': 'end', class: 'tick' }, fmtNumber(max)),
      svg('text', { x: PAD - 4, y: H - PAD, 'text-anchor': 'end', class: 'tick' }, '0'),
      svg('text', { x: PAD, y: H - 8, class: 'tick' }, fmtDate(days[0])),
      svg('text', { x: W - 8, y: H - 8, 'text-anchor': 'end', class: 'tick' }, fmtDate(days[29])),
      line('users', 'users'), line('devices', 'devices'), ...dots('users', 'users'), ...dots('devices', 'devices'));
    const last = peaks.at(-1);
    replace(chartBox,
      el('p', { id: 'ov-chart-desc', class: 'muted' }, t('overview.chartDesc', counts(Math.max(...peaks.map((p) => p.users)), Math.max(...peaks.map((p) => p.devices))))),
      chart,
      el('p', { class: 'legend' }, el('span', { class: 'key users' }, t('overview.peakUsers')), ' ', el('span', { class: 'key devices' }, t('overview.peakDevices'))),
      el('p', { id: 'ov-chart-today', class: 'muted' }, t('overview.today', { ...counts(last.users, last.devices), date: fmtDate(last.day) })));
  }

  async function loadExtra() {
    try {
      extra = await api('GET', '/overview');
      renderAlerts();
      renderChart(extra.peaks);
    } catch (e) {
      replace(chartBox, refusalView(e));
    }
  }

  function onStatus(s) {
    status = s;
    renderMode(s);
    renderBars(s);
    renderAlerts();
  }

  if (status) onStatus(status);
  else api('GET', '/status').then(onStatus, (e) => replace(modeBox, refusalView(e)));
  loadExtra();
  const reload = debounce(loadExtra, 300);

  return {
    onStatus(s) {
      onStatus(s);
      // What is in use changed: today's peak may have risen (the server records it on the same events).
      reload();
    },
    onEvent(name) {
      if (['devices.changed', 'provisioning.event', 'clock.rollback', 'users.changed', 'userLicenses.changed'].includes(name)) reload();
    },
    refresh: () => {
      loadExtra();
      api('GET', '/status').then(onStatus, () => {});
    },
  };
}
