// The audit log, newest first, filterable by text and action; new entries appear live.
import { api, debounce, el, fmtDate, refusalView, replace, t } from '../lib.js';

export function mount(main) {
  const q = el('input', { id: 'audit-q', type: 'search', autocomplete: 'off' });
  const action = el('input', { id: 'audit-action', autocomplete: 'off', list: 'audit-actions', placeholder: 'license.' });
  const actions = el('datalist', { id: 'audit-actions' }, ['license.', 'users.', 'userlic.', 'device', 'admin.'].map((a) => el('option', { value: a })));
  const box = el('div', { id: 'audit-box', class: 'scroll' });
  const verifyBox = el('span', { id: 'audit-verify', 'aria-live': 'polite' });

  replace(main,
    el('div', { class: 'toolbar' }, el('h1', {}, t('audit.title')),
      el('div', { class: 'actions' }, verifyBox, el('button', { type: 'button', id: 'audit-verify-btn', onclick: verify }, t('audit.verify')))),
    el('section', { class: 'card' },
      el('form', { class: 'filters', role: 'search', onsubmit: (ev) => (ev.preventDefault(), load()) },
        el('div', { class: 'filter' }, el('label', { for: 'audit-q' }, t('common.filter')), q),
        el('div', { class: 'filter' }, el('label', { for: 'audit-action' }, t('audit.action')), action, actions)),
      box));

  async function verify() {
    try {
      const r = await api('GET', '/audit/verify');
      replace(verifyBox, el('span', { class: r.ok ? 'ok' : 'refusal' }, r.ok ? t('audit.intact', { rows: r.rows }) : t('audit.broken', { at: r.brokenAt, problem: r.problem })));
    } catch (e) {
      replace(verifyBox, refusalView(e));
    }
  }

  async function load() {
    const params = new URLSearchParams({ limit: '200' });
    if (q.value.trim()) params.set('q', q.value.trim());
    if (action.value.trim()) params.set('action', action.value.trim());
    try {
      const r = await api('GET', `/audit?${params}`);
      if (!r.entries.length) return replace(box, el('p', {}, t('audit.none')));
      replace(box, el('table', { id: 'audit-table' },
        el('thead', {}, el('tr', {}, ['at', 'actor', 'action', 'subject', 'details'].map((k) => el('th', { scope: 'col' }, t(`audit.${k}`))))),
        el('tbody', {}, r.entries.map((e) => el('tr', { dataset: { id: String(e.id), action: e.action } },
          el('td', {}, el('time', { datetime: e.at }, fmtDate(e.at, true))), el('td', {}, e.actor), el('td', {}, el('code', {}, e.action)), el('td', {}, e.subject),
          el('td', { class: 'details' }, Object.entries(e.details ?? {}).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('; ')))))));
    } catch (e) {
      replace(box, refusalView(e));
    }
  }

  const reload = debounce(load, 200);
  q.addEventListener('input', reload);
  action.addEventListener('input', reload);
  load();

  return {
    onEvent(name) {
      if (name === 'audit.appended') reload();
    },
    refresh: load,
  };
}
