// Devices: vendor, model, MAC, user, license state, last seen; release, block,
// assign; and a live feed of notable provisioning outcomes.
import { api, ApiError, debounce, el, fmtDate, refusalView, replace, t } from '../lib.js';
import { securityPanel } from '../provisioning-security.js';

const FEED_MAX = 100;

export function mount(main) {
  const filter = el('input', { id: 'devices-filter', type: 'search', autocomplete: 'off' });
  const box = el('div', { id: 'devices-box', class: 'scroll' });
  const message = el('div', { id: 'devices-message', 'aria-live': 'polite' });
  const feed = el('ol', { id: 'prov-feed', class: 'feed', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  let available = true;
  const security = securityPanel({ onChange: () => load() });

  replace(main,
    el('div', { class: 'toolbar' }, el('h1', {}, t('devices.title'))),
    el('section', { class: 'card', 'aria-labelledby': 'devices-title' },
      el('h2', { id: 'devices-title' }, t('devices.list')),
      el('div', { class: 'filter' }, el('label', { for: 'devices-filter' }, t('common.filter')), filter),
      message, box),
    el('section', { class: 'card', 'aria-labelledby': 'feed-title' },
      el('h2', { id: 'feed-title' }, t('devices.feed')), feed),
    security.el);

  async function act(mac, what, body) {
    replace(message);
    try {
      await api('POST', `/devices/${encodeURIComponent(mac)}/${what}`, body ?? {});
      replace(message, el('p', { class: 'ok' }, t(`devices.done.${what}`, { mac })));
    } catch (e) {
      replace(message, refusalView(e));
    }
    load();
  }

  function assignForm(d) {
    const id = `assign-${d.mac}`.replace(/[^\w-]/g, '_');
    const input = el('input', { id, value: d.userName ?? '', size: 12, autocomplete: 'off' });
    return el('form', { class: 'inline', onsubmit: (ev) => {
      ev.preventDefault();
      act(d.mac, 'assign', { userName: input.value.trim() });
    } }, el('label', { for: id, class: 'sr-only' }, t('devices.assignTo', { mac: d.mac })), input, ' ', el('button', { type: 'submit' }, t('devices.assign')));
  }

  async function load() {
    const q = filter.value.trim();
    try {
      const r = await api('GET', `/devices${q ? `?q=${encodeURIComponent(q)}` : ''}`);
      available = true;
      if (!r.devices.length) return replace(box, el('p', { id: 'devices-none' }, t('devices.none')));
      replace(box, el('table', { id: 'devices-table' },
        el('thead', {}, el('tr', {}, ['mac', 'vendor', 'model', 'user', 'license', 'lastSeen', 'actions'].map((k) => el('th', { scope: 'col' }, t(`device.${k}`))))),
        el('tbody', {}, r.devices.map((d) => el('tr', { dataset: { mac: d.mac, state: d.licenseState } },
          el('th', { scope: 'row' }, el('code', {}, d.mac)),
          el('td', {}, d.vendor || '—'), el('td', {}, d.model || '—'),
          el('td', {}, assignForm(d)),
          el('td', {}, el('span', { class: `state ${d.licenseState}` }, t(`devstate.${d.licenseState}`)), d.waitingSince ? el('span', { class: 'muted' }, ` ${t('devices.since', { date: fmtDate(d.waitingSince, true) })}`) : null),
          el('td', {}, fmtDate(d.lastSeen, true)),
          el('td', { class: 'row-actions' },
            d.userName || d.licenseState === 'licensed' ? el('button', { type: 'button', onclick: () => act(d.mac, 'release') }, t('devices.release')) : null,
            d.licenseState === 'blocked'
              ? el('button', { type: 'button', onclick: () => act(d.mac, 'unblock') }, t('devices.unblock'))
              : el('button', { type: 'button', onclick: () => act(d.mac, 'block') }, t('devices.block'))))))));
      security.decorate(box.querySelector('#devices-table'));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && e.code === 'REQ_NOT_FOUND') {
        available = false;
        replace(box, el('p', { class: 'notice', id: 'devices-unavailable' }, t('devices.unavailable')));
        replace(feed);
      } else replace(box, refusalView(e));
    }
  }

  const feedItem = (ev) => el('li', { class: `outcome ${ev.outcome}`, dataset: { mac: ev.mac ?? '' } },
    el('time', { datetime: ev.at }, fmtDate(ev.at, true)), ' ',
    el('strong', {}, t(`outcome.${ev.outcome}`)), ' ',
    [ev.vendor, ev.model].filter(Boolean).join(' '), ' ', ev.mac ? el('code', {}, ev.mac) : null, ev.ip ? ` (${ev.ip})` : '',
    ev.detail ? el('span', { class: 'muted' }, ` — ${ev.detail}`) : null);

  async function loadFeed() {
    try {
      const r = await api('GET', `/provisioning/events?limit=${FEED_MAX}`);
      replace(feed, (r.events ?? []).map(feedItem));
    } catch {
      /* shown by load() */
    }
  }

  filter.addEventListener('input', debounce(load, 200));
  const reload = debounce(load, 150);
  load().then(() => available && (loadFeed(), security.refresh()));

  return {
    onEvent(name, events) {
      if (!available) return;
      if (name === 'devices.changed') reload();
      if (name === 'provisioning.alert') security.refresh();
      if (name === 'provisioning.event') {
        for (const e of events) feed.prepend(feedItem({ at: e.at, ...e.data }));
        while (feed.children.length > FEED_MAX) feed.lastElementChild.remove();
      }
    },
    refresh() {
      load().then(() => available && loadFeed());
    },
  };
}
