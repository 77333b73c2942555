// The audit log, newest first, filterable by text and action; new entries appear live.
// Entries carry an action code and values; the page words them in its own language.
import { pager } from '../table.js';
import { api, codeLabel, debounce, el, fmtDate, fmtList, fmtNumber, refusalView, replace, t, tn, tr } from '../lib.js';

/** Action prefixes an admin can filter by (what the server writes: user.register, userlicense.batch, …). */
const ACTION_GROUPS = ['license.', 'user.', 'userlicense.', 'tenant.', 'device.', 'session.', 'client-token.', 'admin.', 'autoattendant.', 'siptrunk.'];

const has = (key) => t(key) !== key;

/** The action as a phrase: a catalogue entry per action, else the code itself. */
export const actionText = (action) => (has(`msg.audit.action.${action}`) ? t(`msg.audit.action.${action}`) : action);

/** Counted subjects the server writes in English ("3 changes") worded here. */
function subjectText(s) {
  let m;
  if ((m = /^(\d+) (changes|records|users)$/.exec(s))) return tn(`msg.audit.subj.${m[2]}`, Number(m[1]));
  if ((m = /^(\d+) suspended, (\d+) restored$/.exec(s))) return t('msg.audit.subj.reconcile', { suspended: fmtNumber(Number(m[1])), restored: fmtNumber(Number(m[2])) });
  if (s === 'all devices') return t('msg.audit.subj.allDevices');
  return s;
}

function valueText(k, v) {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.length ? fmtList(v.map((x) => valueText(k, x))) : '—';
  if (typeof v === 'number') return fmtNumber(v);
  if (typeof v === 'boolean') return t(v ? 'common.yes' : 'common.no');
  if (typeof v === 'object') return JSON.stringify(v);
  let m;
  // "clientbundle 5→10" (license changes), "user:code" (assignments), plain codes and reasons.
  if ((m = /^([a-z][\w.]*) (\d+)→(\d+)$/.exec(v))) return `${codeLabel(m[1])} ${fmtNumber(Number(m[2]))} → ${fmtNumber(Number(m[3]))}`;
  if ((m = /^not seen for (\d+) days$/.exec(v))) return tn('msg.audit.val.notSeen', Number(m[1]));
  if ((k === 'license' || k === 'code') && v) return codeLabel(v);
  if ((k === 'state' || k === 'mode') && has(`msg.audit.val.${v}`)) return t(`msg.audit.val.${v}`);
  if (has(`msg.audit.val.${v}`)) return t(`msg.audit.val.${v}`);
  return v;
}

function detailsText(details) {
  // An entry that carries a message (a provisioning alert) is worded from the daemon's catalogue.
  const { code, values, detail, ...rest } = details ?? {};
  const said = typeof code === 'string' && has(`msg.${code}`) ? [t(`msg.${code}`, values ?? {})] : [];
  const others = said.length ? rest : (details ?? {});
  return [...said, ...Object.entries(others).map(([k, v]) => `${has(`msg.audit.key.${k}`) ? t(`msg.audit.key.${k}`) : k}: ${valueText(k, v)}`)].join('; ');
}

export function mount(main) {
  const q = el('input', { id: 'audit-q', type: 'search', autocomplete: 'off' });
  const action = el('select', { id: 'audit-action' },
    el('option', { value: '' }, t('audit.allActions')),
    ACTION_GROUPS.map((a) => el('option', { value: a }, t(`auditgroup.${a.slice(0, -1)}`))));
  const box = el('div', { id: 'audit-box', class: 'scroll' });
  const verifyBox = el('span', { id: 'audit-verify', 'aria-live': 'polite' });
  const pages = pager('audit', 100, () => load());

  replace(main,
    el('div', { class: 'toolbar' }, el('h1', {}, t('audit.title')),
      el('div', { class: 'actions' }, verifyBox, el('button', { type: 'button', id: 'audit-verify-btn', onclick: verify }, t('audit.verify')))),
    el('section', { class: 'card', 'aria-label': t('audit.title') },
      el('form', { class: 'filters', role: 'search', onsubmit: (ev) => (ev.preventDefault(), load()) },
        el('div', { class: 'filter' }, el('label', { for: 'audit-q' }, t('common.filter')), q),
        el('div', { class: 'filter' }, el('label', { for: 'audit-action' }, t('audit.action')), action)),
      box, pages.node));

  async function verify() {
    try {
      const r = await api('GET', '/audit/verify');
      replace(verifyBox, el('span', { class: r.ok ? 'ok' : 'refusal' }, r.ok ? tn('audit.intact', r.rows) : t('audit.broken', { at: r.brokenAt, problem: tr(r.text) || r.problem })));
    } catch (e) {
      replace(verifyBox, refusalView(e));
    }
  }

  async function load() {
    const params = new URLSearchParams({ limit: '100', offset: String(pages.offset) });
    if (q.value.trim()) params.set('q', q.value.trim());
    if (action.value) params.set('action', action.value);
    try {
      const r = await api('GET', `/audit?${params}`);
      pages.update(r.entries.length, r.total ?? r.entries.length);
      if (!r.entries.length) return replace(box, el('p', {}, t('audit.none')));
      replace(box, el('table', { id: 'audit-table', class: 'cards' },
        el('thead', {}, el('tr', {}, ['at', 'actor', 'action', 'subject', 'details'].map((k) => el('th', { scope: 'col' }, t(`audit.${k}`))))),
        el('tbody', {}, r.entries.map((e) => el('tr', { dataset: { id: String(e.id), action: e.action } },
          el('td', { dataset: { label: t('audit.at') } }, el('time', { datetime: e.at }, fmtDate(e.at, true))),
          el('td', { dataset: { label: t('audit.actor') } }, e.actor),
          el('td', { dataset: { label: t('audit.action') } }, actionText(e.action)),
          el('td', { dataset: { label: t('audit.subject') } }, subjectText(e.subject)),
          el('td', { class: 'details', dataset: { label: t('audit.details') } }, detailsText(e.details)))))));
    } catch (e) {
      replace(box, refusalView(e));
    }
  }

  const reload = debounce(load, 200);
  const firstPage = debounce(() => (pages.reset(), load()), 200);
  q.addEventListener('input', firstPage);
  action.addEventListener('change', firstPage);
  load();

  return {
    onEvent(name) {
      if (name === 'audit.appended') reload();
    },
    refresh: load,
  };
}
