// Devices: vendor, model, MAC, user, license state, last seen; filter by text, state and
// vendor; assign through a user picker, release, block (each destructive step confirmed);
// and a live feed of notable provisioning outcomes, worded from their codes.
import { api, ApiError, codeLabel, confirmAction, debounce, el, fmtDate, fmtMac, lang, refusalView, replace, t, tr, vendorName } from '../lib.js';
import { pager, sortableHead } from '../table.js';
import { securityPanel } from '../provisioning-security.js';

const FEED_MAX = 100;
const PAGE_SIZE = 50;
const STATES = ['licensed', 'waiting', 'not_required', 'unassigned', 'blocked'];
const VENDORS = ['cisco', 'unify', 'gigaset', 'yealink', 'snom'];

/** One outcome as a sentence: its code and values worded from the daemon's catalogue (served as msg.CODE), license codes by their label. */
function feedDetail(ev) {
  const v = ev.values ?? {};
  if (ev.code && t(`msg.${ev.code}`) !== `msg.${ev.code}`) return t(`msg.${ev.code}`, { ...v, ...(v.license ? { license: codeLabel(v.license) } : {}) });
  return tr(ev.text) || (lang === 'en' ? (ev.detail ?? '') : '');
}

export function mount(main) {
  const filter = el('input', { id: 'devices-filter', type: 'search', autocomplete: 'off' });
  const stateFilter = el('select', { id: 'devices-state' }, el('option', { value: '' }, t('common.all')), STATES.map((s) => el('option', { value: s }, t(`devstate.${s}`))));
  const vendorFilter = el('select', { id: 'devices-vendor' }, el('option', { value: '' }, t('common.all')), VENDORS.map((v) => el('option', { value: v }, vendorName(v))));
  const box = el('div', { id: 'devices-box', class: 'table-box' });
  const message = el('div', { id: 'devices-message', 'aria-live': 'polite' });
  const feed = el('ol', { id: 'prov-feed', class: 'feed', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  // One list of users for every picker on the page, filled as the admin types (10,000 users: never all at once).
  const userOptions = el('datalist', { id: 'device-user-options' });
  const sort = { key: 'mac', order: 'asc' };
  const pages = pager('devices', PAGE_SIZE, () => load());
  let available = true;
  const security = securityPanel({ onChange: () => load() });

  replace(main,
    el('div', { class: 'toolbar' }, el('h1', {}, t('devices.title'))),
    el('section', { class: 'card', 'aria-labelledby': 'devices-title' },
      el('h2', { id: 'devices-title' }, t('devices.list')),
      el('div', { class: 'filters' },
        el('div', { class: 'filter' }, el('label', { for: 'devices-filter' }, t('common.filter')), filter),
        el('div', { class: 'filter' }, el('label', { for: 'devices-state' }, t('device.license')), stateFilter),
        el('div', { class: 'filter' }, el('label', { for: 'devices-vendor' }, t('device.vendor')), vendorFilter)),
      message, box, pages.node, userOptions),
    el('section', { class: 'card', 'aria-labelledby': 'feed-title' },
      el('h2', { id: 'feed-title' }, t('devices.feed')), feed),
    security.el);

  async function act(d, what, body) {
    replace(message);
    const mac = fmtMac(d.mac);
    try {
      await api('POST', `/devices/${encodeURIComponent(d.mac)}/${what}`, body ?? {});
      replace(message, el('p', { class: 'ok' }, t(`devices.done.${what}`, { mac })));
    } catch (e) {
      replace(message, refusalView(e));
    }
    load();
  }

  /** Release and block take a phone's service away: the admin says yes first. */
  async function confirmed(d, what) {
    const mac = fmtMac(d.mac);
    const yes = await confirmAction({ title: t(`devices.confirm.${what}.title`, { mac }), text: t(`devices.confirm.${what}.text`, { mac, user: d.userName ?? '—' }), confirm: t(`devices.${what}`) });
    if (yes) act(d, what);
  }

  const fillUsers = debounce(async (q) => {
    try {
      const r = await api('GET', `/users?status=active&limit=20&q=${encodeURIComponent(q)}`);
      replace(userOptions, r.users.map((u) => el('option', { value: u.userName }, [u.firstName, u.lastName].filter(Boolean).join(' ') || u.userName)));
    } catch {
      /* the picker stays a plain box */
    }
  }, 150);

  function assignForm(d) {
    const id = `assign-${d.mac}`.replace(/[^\w-]/g, '_');
    const input = el('input', { id, value: d.userName ?? '', size: 14, autocomplete: 'off', list: 'device-user-options', placeholder: t('devices.pickUser'), oninput: () => fillUsers(input.value.trim()), onfocus: () => fillUsers(input.value.trim()) });
    return el('form', { class: 'inline', onsubmit: (ev) => {
      ev.preventDefault();
      if (!input.value.trim()) return replace(message, el('p', { class: 'notice' }, t('devices.pickFirst')));
      act(d, 'assign', { userName: input.value.trim() });
    } }, el('label', { for: id, class: 'sr-only' }, t('devices.assignTo', { mac: d.mac })), input, ' ', el('button', { type: 'submit' }, t('devices.assign')));
  }

  async function load() {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(pages.offset), sort: sort.key, order: sort.order });
    if (filter.value.trim()) params.set('q', filter.value.trim());
    if (stateFilter.value) params.set('state', stateFilter.value);
    if (vendorFilter.value) params.set('vendor', vendorFilter.value);
    try {
      const r = await api('GET', `/devices?${params}`);
      available = true;
      pages.update(r.devices.length, r.total ?? r.devices.length);
      if (!r.devices.length) return replace(box, el('p', { id: 'devices-none' }, t(filter.value || stateFilter.value || vendorFilter.value ? 'devices.noMatch' : 'devices.none')));
      const head = sortableHead([['mac', 'mac'], ['vendor', 'vendor'], ['model', null], ['user', 'userName'], ['license', 'state'], ['lastSeen', 'lastSeen'], ['actions', null]].map(([k, s]) => [t(`device.${k}`), s]), sort, firstPage);
      replace(box, el('table', { id: 'devices-table', class: 'cards' },
        el('thead', {}, head),
        el('tbody', {}, r.devices.map((d) => el('tr', { dataset: { mac: d.mac, state: d.licenseState } },
          el('th', { scope: 'row', class: 'first' }, el('code', {}, fmtMac(d.mac))),
          el('td', { dataset: { label: t('device.vendor') } }, vendorName(d.vendor)), el('td', { dataset: { label: t('device.model') } }, d.model || '—'),
          el('td', { dataset: { label: t('device.user') } }, assignForm(d)),
          el('td', { dataset: { label: t('device.license') } }, el('span', { class: `state ${d.licenseState}` }, t(`devstate.${d.licenseState}`)), d.waitingSince ? el('span', { class: 'muted' }, ` ${t('devices.since', { date: fmtDate(d.waitingSince, true) })}`) : null),
          el('td', { dataset: { label: t('device.lastSeen') } }, fmtDate(d.lastSeen, true)),
          el('td', { class: 'row-actions' },
            d.userName || d.licenseState === 'licensed' ? el('button', { type: 'button', onclick: () => confirmed(d, 'release') }, t('devices.release')) : null,
            d.licenseState === 'blocked'
              ? el('button', { type: 'button', onclick: () => act(d, 'unblock') }, t('devices.unblock'))
              : el('button', { type: 'button', onclick: () => confirmed(d, 'block') }, t('devices.block'))))))));
      security.decorate(box.querySelector('#devices-table'));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && e.code === 'REQ_NOT_FOUND') {
        available = false;
        replace(box, el('p', { class: 'notice', id: 'devices-unavailable' }, t('devices.unavailable')));
        replace(feed);
      } else replace(box, refusalView(e));
    }
  }

  const feedItem = (ev) => el('li', { class: `outcome ${ev.outcome}`, dataset: { mac: ev.mac ?? '', code: ev.code ?? '' } },
    el('time', { datetime: ev.at }, fmtDate(ev.at, true)), ' ',
    el('strong', {}, t(`msg.outcome.${ev.outcome}`)), ' ',
    [vendorName(ev.vendor), ev.model].filter((x) => x && x !== '—').join(' '), ' ', ev.mac ? el('code', {}, fmtMac(ev.mac)) : null, ev.ip ? ` (${ev.ip})` : '',
    ((detail) => (detail ? el('span', { class: 'muted' }, ` — ${detail}`) : null))(feedDetail(ev)));

  async function loadFeed() {
    try {
      const r = await api('GET', `/provisioning/events?limit=${FEED_MAX}`);
      replace(feed, (r.events ?? []).map(feedItem));
    } catch {
      /* shown by load() */
    }
  }

  // The overview links here with ?state=waiting.
  const wanted = new URLSearchParams(location.hash.split('?')[1] ?? '');
  if (STATES.includes(wanted.get('state'))) stateFilter.value = wanted.get('state');
  const firstPage = () => (pages.reset(), load());
  filter.addEventListener('input', debounce(firstPage, 200));
  stateFilter.addEventListener('change', firstPage);
  vendorFilter.addEventListener('change', firstPage);
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
