// Small helpers shared by every page: DOM building (no innerHTML: texts from the
// server are never parsed as HTML), the API client with CSRF, and the language catalogue.

/** el('button', { class: 'x', onclick: fn }, 'text', child) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k in node && typeof v !== 'string') node[k] = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

// ── language ──

const LANGS = ['en', 'de'];
let catalogue = {};
export let lang = 'en';

export function preferredLanguage() {
  const saved = localStorage.getItem('pbxd.lang');
  if (LANGS.includes(saved)) return saved;
  for (const l of navigator.languages ?? [navigator.language]) {
    const base = String(l).toLowerCase().slice(0, 2);
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}

export async function loadLanguage(l, remember = false) {
  const res = await fetch(`/i18n/${l}.json`);
  catalogue = await res.json();
  lang = l;
  document.documentElement.lang = l;
  if (remember) localStorage.setItem('pbxd.lang', l);
}

export const languages = LANGS;

/** t('license.users', { used: 3 }) → the text of the current language with {used} filled in. */
export function t(key, vars = {}) {
  const s = catalogue[key];
  if (s === undefined) return key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] === undefined ? `{${k}}` : String(vars[k])));
}

/** A server text { en, de } in the current language. */
export const tr = (text) => (text && typeof text === 'object' ? (text[lang] ?? text.en ?? '') : (text ?? ''));

export function fmtDate(iso, withTime = false) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return withTime ? d.toLocaleString(lang) : d.toLocaleDateString(lang);
}

export const fmtNumber = (n) => (typeof n === 'number' ? new Intl.NumberFormat(lang).format(n) : String(n ?? ''));

/** tn('userlic.saved', 3) → the 'one' or 'other' form (key.one / key.other) for n, with {n} formatted. */
export function tn(key, n, vars = {}) {
  const form = new Intl.PluralRules(lang).select(n);
  const k = catalogue[`${key}.${form}`] !== undefined ? `${key}.${form}` : `${key}.other`;
  return t(k, { ...vars, n: fmtNumber(n) });
}

/** "a, b and c" in the current language. */
export const fmtList = (items) => new Intl.ListFormat(lang, { style: 'long', type: 'conjunction' }).format(items.map(String));

/** Labels of license codes as the status names them, kept by the shell from every status. */
const codeLabels = new Map();
export function learnCodeLabels(codes) {
  for (const c of codes ?? []) if (c?.code && c.label) codeLabels.set(c.code, c.label);
}
export const codeLabel = (code) => (codeLabels.has(code) ? tr(codeLabels.get(code)) : catalogue[`code.${code}`] ?? code);

/** 00562b0436a1 → 00:56:2B:04:36:A1, as printed on the phone's label. */
export const fmtMac = (mac) => (/^[0-9a-f]{12}$/i.test(mac ?? '') ? mac.toUpperCase().match(/../g).join(':') : (mac ?? ''));

export const vendorName = (v) => (v ? (catalogue[`vendor.${v}`] ?? v) : '—');

/** Why the appliance is in its mode, worded here from the code and the dates (the server's sentence has raw timestamps). */
export function modeReason(s) {
  const code = s?.reason?.code;
  const id = s?.licenseId ?? '';
  switch (code) {
    case 'MODE_LICENSED':
      return s.expiresAt ? t('reason.licensedUntil', { id, date: fmtDate(s.expiresAt) }) : t('reason.licensedForever', { id });
    case 'MODE_GRACE':
      return tn('reason.grace', s.graceDaysLeft ?? 0, { id, date: fmtDate(s.expiresAt) });
    case 'MODE_LICENSE_EXPIRED':
      return t('reason.expired', { id, date: fmtDate(s.expiresAt), graceEnd: fmtDate(s.graceEndsAt) });
    case 'MODE_NOT_YET_VALID':
      return t('reason.notYetValid', { id, date: fmtDate(s.validFrom) });
    case 'MODE_NO_LICENSE':
      return t('reason.noLicense');
    default:
      return tr(s?.reason);
  }
}

// ── API ──

const session = { csrf: '', onUnauthorized: () => {} };
export function setSession(csrf, onUnauthorized) {
  session.csrf = csrf ?? '';
  if (onUnauthorized) session.onUnauthorized = onUnauthorized;
}

/** A refusal from the API as an Error that keeps the structured refusal. */
export class ApiError extends Error {
  constructor(status, refusal) {
    super(refusal?.message ?? `HTTP ${status}`);
    this.status = status;
    this.refusal = refusal ?? { code: `HTTP_${status}`, text: { en: `HTTP ${status}`, de: `HTTP ${status}` }, details: {} };
  }
  get code() {
    return this.refusal.code;
  }
}

/** api('POST', '/license/activate', { stageId }) → parsed JSON, or throws ApiError. */
export async function api(method, path, body, opts = {}) {
  const headers = { accept: 'application/json' };
  let payload;
  if (opts.raw !== undefined) {
    payload = opts.raw;
    headers['content-type'] = opts.contentType ?? 'text/plain';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  if (method !== 'GET' && session.csrf) headers['x-csrf-token'] = session.csrf;
  const res = await fetch(`/api/v1${path}`, { method, headers, body: payload, credentials: 'same-origin' });
  let json = null;
  try {
    json = await res.json();
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const err = new ApiError(res.status, json?.error);
    if (res.status === 401 && !opts.quiet) session.onUnauthorized();
    throw err;
  }
  return json;
}

/** A refusal as the admin reads it: the sentence and the remedy, in the current language. */
export function refusalView(err) {
  const r = err instanceof ApiError ? err.refusal : { text: { en: String(err?.message ?? err), de: String(err?.message ?? err) } };
  return el('div', { class: 'refusal', role: 'alert', dataset: { code: r.code ?? '' } },
    el('strong', {}, refusalText(r)),
    r.remedy ? el('span', { class: 'remedy' }, ' ', tr(r.remedy)) : null,
    r.code ? el('code', { class: 'code' }, r.code) : null,
  );
}

/** Refusals whose server sentence names license codes raw: worded here with the codes' labels. */
const REFUSAL_WORDING = {
  LIC_OVERUSED: (d) => t('refusal.LIC_OVERUSED', {
    list: fmtList((d.codes ?? []).map((c) => t('refusal.overItem', { label: codeLabel(c.code), n: fmtNumber(c.toRemove) }))),
  }),
  USERLIC_QUOTA_EXCEEDED: (d) => t('refusal.USERLIC_QUOTA_EXCEEDED', {
    list: fmtList((d.codes ?? []).map((c) => t('refusal.quotaItem', { label: codeLabel(c.code), wouldUse: fmtNumber(c.wouldUse), total: fmtNumber(c.total), exceedsBy: fmtNumber(c.exceedsBy) }))),
  }),
};

function refusalText(r) {
  const word = REFUSAL_WORDING[r.code];
  if (word && r.details) {
    try {
      return word(r.details);
    } catch {
      /* details not as expected: the server's own sentence */
    }
  }
  return tr(r.text);
}

/**
 * A keyboard-usable confirmation: a modal <dialog> (Esc cancels, focus starts on Cancel
 * so Enter never destroys by accident). Resolves true when confirmed.
 */
export function confirmAction({ title, text, confirm, danger = true }) {
  return new Promise((resolve) => {
    const back = document.activeElement;
    const cancel = el('button', { type: 'button', id: 'confirm-cancel', onclick: () => done(false) }, t('common.cancel'));
    const ok = el('button', { type: 'button', id: 'confirm-ok', class: danger ? 'danger' : 'primary', onclick: () => done(true) }, confirm);
    const node = el('dialog', { id: 'confirm-dialog', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' },
      el('h2', { id: 'confirm-title' }, title), el('p', { id: 'confirm-text' }, text), el('div', { class: 'actions' }, cancel, ok));
    let settled = false;
    function done(yes) {
      if (settled) return;
      settled = true;
      node.close();
      node.remove();
      back?.focus?.();
      resolve(yes);
    }
    node.addEventListener('cancel', (ev) => (ev.preventDefault(), done(false)));
    document.body.append(node);
    node.showModal();
    cancel.focus();
  });
}

/** Run fn at most once per `ms`, trailing: many live events → one reload. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A label/value block: [[label, value], …] → <dl>. */
export function facts(rows) {
  return el('dl', { class: 'facts' }, rows.filter(Boolean).map(([k, v, attrs]) => [el('dt', {}, k), el('dd', attrs ?? {}, v)]));
}
