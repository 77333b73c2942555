// Provisioning security on the Devices page: the URLs to set on the phones (with the site key),
// and a badge on each device whose credentials were asked for from another address, with
// "allow new address" and "block". Self-contained: the page mounts `el`, calls `decorate(table)`
// after drawing its rows, and `refresh()` on a provisioning.alert.
import { api, el, fmtDate, refusalView, replace, t, tr } from './lib.js';

export function securityPanel({ onChange }) {
  // A scrolling region is focusable so keyboard users can scroll it too.
  const urls = el('div', { id: 'prov-urls', class: 'scroll', tabindex: '0', role: 'region', 'aria-labelledby': 'prov-urls-title' });
  const message = el('div', { id: 'prov-security-message', 'aria-live': 'polite' });
  let pending = new Map();
  let table = null;

  const card = el('section', { class: 'card', 'aria-labelledby': 'prov-urls-title' },
    el('h2', { id: 'prov-urls-title' }, t('provsec.urls')), message, urls);

  async function decide(mac, what) {
    replace(message);
    try {
      await api('POST', `/devices/${encodeURIComponent(mac)}/address/${what}`, {});
      replace(message, el('p', { class: 'ok' }, t(`provsec.done.${what}`, { mac })));
    } catch (e) {
      replace(message, refusalView(e));
    }
    await refresh();
    onChange?.();
  }

  function badge(l) {
    return el('div', { class: 'badge alert', dataset: { badge: l.mac } },
      el('strong', {}, t('provsec.refused', { ip: l.pendingIp, count: l.pendingCount })), ' ',
      el('span', { class: 'muted' }, l.ip ? t('provsec.lockedTo', { ip: l.ip }) : l.subnet ?? ''), ' ',
      el('button', { type: 'button', onclick: () => decide(l.mac, 'allow') }, t('provsec.allow')), ' ',
      el('button', { type: 'button', onclick: () => decide(l.mac, 'block') }, t('provsec.block')));
  }

  /** Put the badges into the device table's rows (tr[data-mac]). */
  function decorate(tbl) {
    table = tbl;
    if (!tbl) return;
    for (const old of tbl.querySelectorAll('[data-badge]')) old.remove();
    for (const row of tbl.querySelectorAll('tr[data-mac]')) {
      const l = pending.get(row.dataset.mac);
      if (l) row.querySelector('th')?.append(badge(l));
    }
  }

  async function refresh() {
    try {
      const [u, p] = await Promise.all([api('GET', '/provisioning/urls'), api('GET', '/provisioning/locks?limit=1000')]);
      pending = new Map(p.pending.map((l) => [l.mac, l]));
      replace(urls, el('table', { id: 'prov-urls-table' },
        el('thead', {}, el('tr', {}, ['vendor', 'where', 'value', 'protections'].map((k) => el('th', { scope: 'col' }, t(`provsec.${k}`))))),
        el('tbody', {}, u.urls.map((x) => el('tr', { dataset: { module: x.module } },
          el('th', { scope: 'row' }, x.module), el('td', {}, tr(x.where)),
          el('td', {}, el('code', {}, x.value), x.credentials ? el('div', { class: 'muted' }, t('provsec.credentials', x.credentials)) : null),
          el('td', { class: 'muted' }, x.protections.map(tr).join('; ')))))),
        u.enrolmentUntil ? el('p', {}, t('provsec.window', { date: fmtDate(u.enrolmentUntil, true) })) : null);
      decorate(table);
    } catch (e) {
      replace(urls, refusalView(e));
    }
  }

  return { el: card, decorate, refresh };
}
