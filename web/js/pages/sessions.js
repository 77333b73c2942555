// Client sessions: who is connected with which client (desktop client, app, TAPI,
// operator console), since when and from where; an admin can end one. The list
// follows `sessions.changed` live.
import { api, confirmAction, debounce, el, fmtDate, refusalView, replace, t } from '../lib.js';
import { pager } from '../table.js';

const KINDS = ['desktop', 'app', 'tapi', 'console'];

export function mount(main) {
  const filter = el('input', { id: 'sessions-filter', type: 'search', autocomplete: 'off' });
  const counts = el('p', { id: 'sessions-counts' });
  const message = el('div', { id: 'sessions-message', 'aria-live': 'polite' });
  const box = el('div', { id: 'sessions-box', class: 'scroll' });
  let sessions = [];
  const pages = pager('sessions', 50, () => load());

  replace(main,
    el('div', { class: 'toolbar' }, el('h1', {}, t('sessions.title'))),
    el('section', { class: 'card' },
      el('p', {}, t('sessions.intro')),
      el('div', { class: 'filter' }, el('label', { for: 'sessions-filter' }, t('common.filter')), filter),
      counts, message, box, pages.node));

  async function end(s) {
    const vars = { user: s.userName, kind: t(`sessions.kind.${s.kind}`) };
    if (!(await confirmAction({ title: t('sessions.confirmTitle', vars), text: t('sessions.confirmText', vars), confirm: t('sessions.end') }))) return;
    replace(message);
    try {
      await api('DELETE', `/sessions/${encodeURIComponent(s.id)}`);
      replace(message, el('p', { class: 'ok' }, t('sessions.ended', { user: s.userName, kind: t(`sessions.kind.${s.kind}`) })));
    } catch (e) {
      replace(message, refusalView(e));
    }
    load();
  }

  function render() {
    const q = filter.value.trim().toLowerCase();
    const shown = q ? sessions.filter((s) => s.userName.toLowerCase().includes(q)) : sessions;
    if (!shown.length) return replace(box, el('p', { id: 'sessions-none' }, t('sessions.none')));
    replace(box, el('table', { id: 'sessions-table', class: 'cards' },
      el('thead', {}, el('tr', {}, ['user', 'client', 'since', 'from', 'actions'].map((k) => el('th', { scope: 'col' }, t(`sessions.${k}`))))),
      el('tbody', {}, shown.map((s) => el('tr', { dataset: { id: s.id, user: s.userName, kind: s.kind } },
        el('th', { scope: 'row' }, s.userName),
        el('td', { dataset: { label: t('sessions.client') } }, t(`sessions.kind.${s.kind}`), ' ', el('span', { class: 'muted' }, `(${s.code})`)),
        el('td', { dataset: { label: t('sessions.since') } }, el('time', { datetime: s.since }, fmtDate(s.since, true))),
        el('td', { dataset: { label: t('sessions.from') } }, el('code', {}, s.from)),
        el('td', { class: 'row-actions' },
          el('button', { type: 'button', 'aria-label': t('sessions.endLabel', { user: s.userName, kind: t(`sessions.kind.${s.kind}`) }), onclick: () => end(s) }, t('sessions.end'))))))));
  }

  async function load() {
    try {
      const r = await api('GET', `/sessions?limit=50&offset=${pages.offset}`);
      sessions = r.sessions;
      pages.update(r.sessions.length, r.total ?? r.sessions.length);
      replace(counts, t('sessions.counts', Object.fromEntries(KINDS.map((k) => [k, r.counts[k] ?? 0]))));
      render();
    } catch (e) {
      replace(box, refusalView(e));
    }
  }

  filter.addEventListener('input', render);
  const reload = debounce(load, 150);
  load();

  return {
    onEvent(name) {
      if (name === 'sessions.changed') reload();
    },
    refresh: load,
  };
}
