// Admins and API tokens: list, add, disable/enable and delete admins (each change
// needs your current password), your own API tokens with expiry and last use.
import { api, confirmAction, el, fmtDate, refusalView, replace, t } from '../lib.js';

export function mount(main, ctx) {
  const current = el('input', { id: 'admins-current', type: 'password', autocomplete: 'current-password' });
  const message = el('div', { id: 'admins-message', 'aria-live': 'polite' });
  const adminBox = el('div', { id: 'admins-box', class: 'scroll' });
  const tokenBox = el('div', { id: 'tokens-box', class: 'scroll' });
  const newName = el('input', { id: 'admins-new-name', autocomplete: 'off', required: true, maxlength: 64 });
  const newPassword = el('input', { id: 'admins-new-password', type: 'password', autocomplete: 'new-password', required: true, minlength: 12 });
  const pwName = el('select', { id: 'admins-pw-name' });
  const pwNew = el('input', { id: 'admins-pw-new', type: 'password', autocomplete: 'new-password', required: true, minlength: 12 });
  const tokenLabel = el('input', { id: 'tokens-label', autocomplete: 'off', required: true, maxlength: 100 });
  const tokenDays = el('input', { id: 'tokens-days', type: 'number', min: 1, max: 3650, value: 90, required: true });
  const tokenShown = el('div', { id: 'tokens-new', 'aria-live': 'polite' });

  replace(main,
    el('div', { class: 'toolbar' }, el('h1', {}, t('admins.title'))),
    el('section', { class: 'card' },
      el('p', {}, t('admins.intro')),
      el('label', { for: 'admins-current' }, t('admins.currentPassword')), current,
      message, adminBox,
      el('form', { id: 'admins-add', class: 'inline', onsubmit: (ev) => (ev.preventDefault(), change(() => api('POST', '/admins', { name: newName.value, password: newPassword.value, currentPassword: current.value }), t('admins.added', { name: newName.value }), () => { newName.value = ''; newPassword.value = ''; })) },
        el('h2', {}, t('admins.add')),
        el('label', { for: 'admins-new-name' }, t('admins.name')), newName,
        el('label', { for: 'admins-new-password' }, t('admins.password')), newPassword,
        el('p', { class: 'muted' }, t('admins.policy')),
        el('button', { type: 'submit', class: 'primary' }, t('admins.addButton'))),
      el('form', { id: 'admins-password', class: 'inline', onsubmit: (ev) => (ev.preventDefault(), setPassword()) },
        el('h2', {}, t('admins.setPassword')),
        el('label', { for: 'admins-pw-name' }, t('admins.name')), pwName,
        el('label', { for: 'admins-pw-new' }, t('admins.newPassword')), pwNew,
        el('button', { type: 'submit' }, t('admins.setPasswordButton')))),
    el('section', { class: 'card' },
      el('h2', {}, t('admins.tokens')),
      el('p', {}, t('admins.tokensIntro')),
      tokenBox,
      el('form', { id: 'tokens-create', class: 'inline', onsubmit: (ev) => (ev.preventDefault(), createToken()) },
        el('label', { for: 'tokens-label' }, t('admins.tokenLabel')), tokenLabel,
        el('label', { for: 'tokens-days' }, t('admins.tokenDays')), tokenDays,
        el('button', { type: 'submit' }, t('admins.tokenCreate'))),
      tokenShown));

  /** Every admin change: your current password goes along; the list reloads after it. */
  async function change(request, done, after) {
    replace(message);
    try {
      await request();
      replace(message, el('p', { class: 'ok' }, done));
      after?.();
    } catch (e) {
      replace(message, refusalView(e));
    }
    load();
  }

  /** Your own new password ends your sessions too: the app then asks you to log in again. */
  function setPassword() {
    const name = pwName.value;
    return change(() => api('PUT', `/admins/${encodeURIComponent(name)}/password`, { password: pwNew.value, currentPassword: current.value }), t('admins.passwordSet', { name }), () => (pwNew.value = ''));
  }

  function renderAdmins(admins) {
    const chosen = pwName.value;
    replace(pwName, ...admins.map((a) => el('option', { value: a.name, selected: a.name === (chosen || ctx.me.admin) }, a.name)));
    replace(adminBox, el('table', { id: 'admins-table' },
      el('thead', {}, el('tr', {}, ['name', 'state', 'lastLogin', 'created', 'actions'].map((k) => el('th', { scope: 'col' }, t(`admins.${k}`))))),
      el('tbody', {}, admins.map((a) => el('tr', { dataset: { name: a.name, disabled: String(a.disabled) } },
        el('th', { scope: 'row' }, a.name, a.name === ctx.me.admin ? el('span', { class: 'muted' }, ` (${t('admins.you')})`) : null),
        el('td', {}, t(a.disabled ? 'admins.disabled' : 'admins.active')),
        el('td', {}, a.lastLoginAt ? el('time', { datetime: a.lastLoginAt }, fmtDate(a.lastLoginAt, true)) : t('admins.never')),
        el('td', {}, el('time', { datetime: a.createdAt }, fmtDate(a.createdAt))),
        el('td', { class: 'row-actions' },
          el('button', { type: 'button', class: 'toggle', 'aria-label': t(a.disabled ? 'admins.enableLabel' : 'admins.disableLabel', { name: a.name }),
            onclick: () => change(() => api('PATCH', `/admins/${encodeURIComponent(a.name)}`, { disabled: !a.disabled, currentPassword: current.value }), t(a.disabled ? 'admins.enabled' : 'admins.disabledDone', { name: a.name })) },
          t(a.disabled ? 'admins.enable' : 'admins.disable')),
          el('button', { type: 'button', class: 'delete', 'aria-label': t('admins.deleteLabel', { name: a.name }),
            onclick: async () => (await confirmAction({ title: t('admins.delete'), text: t('admins.confirmDelete', { name: a.name }), confirm: t('admins.delete') })) && change(() => api('DELETE', `/admins/${encodeURIComponent(a.name)}`, { currentPassword: current.value }), t('admins.deleted', { name: a.name })) },
          t('admins.delete'))))))));
  }

  function renderTokens(tokens) {
    if (!tokens.length) return replace(tokenBox, el('p', { id: 'tokens-none' }, t('admins.noTokens')));
    replace(tokenBox, el('table', { id: 'tokens-table' },
      el('thead', {}, el('tr', {}, ['tokenLabel', 'created', 'expires', 'lastUsed', 'actions'].map((k) => el('th', { scope: 'col' }, t(`admins.${k}`))))),
      el('tbody', {}, tokens.map((tk) => el('tr', { dataset: { id: tk.id } },
        el('th', { scope: 'row' }, tk.label),
        el('td', {}, fmtDate(tk.createdAt)),
        el('td', {}, tk.expiresAt ? fmtDate(tk.expiresAt) : '–'),
        el('td', {}, tk.lastUsedAt ? fmtDate(tk.lastUsedAt, true) : t('admins.never')),
        el('td', { class: 'row-actions' }, el('button', { type: 'button', 'aria-label': t('admins.revokeLabel', { label: tk.label }),
          onclick: () => change(() => api('DELETE', `/tokens/${tk.id}`), t('admins.revoked', { label: tk.label })) }, t('admins.revoke'))))))));
  }

  async function createToken() {
    replace(tokenShown);
    try {
      const r = await api('POST', '/tokens', { label: tokenLabel.value, expiresInDays: Number(tokenDays.value) });
      replace(tokenShown, el('p', { class: 'ok' }, t('admins.tokenOnce'), ' ', el('code', { id: 'tokens-secret' }, r.token)));
      tokenLabel.value = '';
    } catch (e) {
      replace(tokenShown, refusalView(e));
    }
    load();
  }

  async function load() {
    try {
      const [a, tk] = await Promise.all([api('GET', '/admins?limit=500'), api('GET', '/tokens?limit=500')]);
      renderAdmins(a.admins);
      renderTokens(tk.tokens);
    } catch (e) {
      replace(adminBox, refusalView(e));
    }
  }

  load();
  return { refresh: load };
}
