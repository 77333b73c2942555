// Users: seats in use, pending approvals (approve selected / as many as fit),
// tenants' seat pools, the user list (filter, sort and pages from the server; add,
// edit, delete), and who holds suspended per-user licenses.
import { api, ApiError, codeLabel, confirmAction, debounce, el, fmtDate, fmtList, fmtNumber, refusalView, replace, t, tn } from '../lib.js';
import { pager, sortableHead } from '../table.js';

const PAGE_SIZE = 50;
const FIELDS = ['firstName', 'lastName', 'tenant', 'extension'];

/** The add/edit dialog: names, tenant, extension, and the password the user's clients log in with. */
function userDialog(existing, done) {
  const id = (k) => `user-${k}`;
  const inputs = {
    userName: el('input', { id: id('userName'), required: true, autocomplete: 'off', value: existing?.userName ?? '', readOnly: !!existing }),
    ...Object.fromEntries(FIELDS.map((k) => [k, el('input', { id: id(k), autocomplete: 'off', value: existing?.[k] ?? '' })])),
    password: el('input', { id: id('password'), type: 'password', autocomplete: 'new-password' }),
  };
  const message = el('div', { id: 'user-dialog-message', 'aria-live': 'assertive' });
  const node = el('dialog', { id: 'user-dialog', 'aria-labelledby': 'user-dialog-title' });
  const close = () => {
    node.close();
    node.remove();
  };
  const form = el('form', { class: 'stack', onsubmit: async (ev) => {
    ev.preventDefault();
    replace(message);
    const body = Object.fromEntries(FIELDS.map((k) => [k, inputs[k].value.trim() || null]));
    try {
      const name = inputs.userName.value.trim();
      if (existing) await api('PATCH', `/users/${encodeURIComponent(name)}`, body);
      else await api('POST', '/users', { userName: name, ...Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null)) });
      if (inputs.password.value) await api('PUT', `/users/${encodeURIComponent(name)}/password`, { password: inputs.password.value });
      close();
      done(t(existing ? 'users.updated' : 'users.added', { name }));
    } catch (e) {
      replace(message, refusalView(e));
    }
  } },
  el('h2', { id: 'user-dialog-title' }, existing ? t('users.editTitle', { name: existing.userName }) : t('users.addTitle')),
  el('div', { class: 'form-grid' },
    ['userName', ...FIELDS, 'password'].map((k) => [el('label', { for: id(k) }, t(k === 'password' ? 'user.password' : `user.${k}`)), inputs[k]])),
  el('p', { class: 'muted' }, t('users.passwordHint')),
  message,
  el('div', { class: 'actions' }, el('button', { type: 'button', onclick: close }, t('common.cancel')), el('button', { type: 'submit', class: 'primary', id: 'user-dialog-save' }, t('common.save'))));
  node.append(form);
  node.addEventListener('cancel', (ev) => (ev.preventDefault(), close()));
  document.body.append(node);
  node.showModal();
  (existing ? inputs.firstName : inputs.userName).focus();
}

export function mount(main, ctx) {
  const seats = el('p', { id: 'seats', class: 'seats' });
  const pendingBox = el('div', { id: 'pending-box' });
  const pendingMessage = el('div', { id: 'pending-message', 'aria-live': 'polite' });
  const tenantsBox = el('div', { id: 'tenants-box' });
  const tenantsMessage = el('div', { id: 'tenants-message', 'aria-live': 'polite' });
  const filter = el('input', { id: 'users-filter', type: 'search', autocomplete: 'off' });
  const usersBox = el('div', { id: 'users-box', class: 'table-box' });
  const usersMessage = el('div', { id: 'users-message', 'aria-live': 'polite' });
  const usersPager = el('div');
  const suspendedBox = el('div', { id: 'suspended-box' });
  const addButton = el('button', { id: 'user-add', type: 'button', class: 'primary' }, t('users.add'));
  const approveSelected = el('button', { id: 'approve-selected', type: 'button', class: 'primary', disabled: true }, t('users.approveSelected'));
  const approveFit = el('button', { id: 'approve-fit', type: 'button' }, t('users.approveFit'));
  let pending = [];
  const selected = new Set();

  replace(main,
    el('div', { class: 'toolbar' }, el('h1', {}, t('users.title')), seats),
    el('section', { class: 'card', 'aria-labelledby': 'pending-title' },
      el('h2', { id: 'pending-title' }, t('users.pending')),
      el('p', { class: 'muted' }, t('users.pendingIntro')),
      pendingMessage, pendingBox,
      el('div', { class: 'actions' }, approveSelected, approveFit)),
    el('section', { class: 'card', 'aria-labelledby': 'tenants-title' },
      el('h2', { id: 'tenants-title' }, t('users.tenants')), tenantsMessage, tenantsBox),
    el('section', { class: 'card', 'aria-labelledby': 'users-title' },
      el('div', { class: 'section-head' }, el('h2', { id: 'users-title' }, t('users.list')), addButton),
      el('div', { class: 'filter' }, el('label', { for: 'users-filter' }, t('common.filter')), filter),
      usersMessage, usersBox, usersPager),
    el('section', { class: 'card', 'aria-labelledby': 'suspended-title' },
      el('h2', { id: 'suspended-title' }, t('users.suspended')), suspendedBox));

  const showSeats = (s) => {
    const u = s?.codes?.find((c) => c.code === 'users');
    if (u) seats.textContent = t('users.seats', { used: fmtNumber(u.used), total: fmtNumber(u.total) });
  };
  showSeats(ctx.status());

  const unavailable = (box, e) => {
    if (e instanceof ApiError && e.status === 404 && e.code === 'REQ_NOT_FOUND') replace(box, el('p', { class: 'notice' }, t('users.unavailable')));
    else replace(box, refusalView(e));
  };

  async function loadPending() {
    try {
      const r = await api('GET', '/users?status=pending&limit=500');
      pending = r.users;
      for (const n of [...selected]) if (!pending.some((u) => u.userName === n)) selected.delete(n);
      renderPending(r.total);
    } catch (e) {
      unavailable(pendingBox, e);
      approveSelected.disabled = approveFit.disabled = true;
    }
  }

  function renderPending(total) {
    approveFit.disabled = pending.length === 0;
    approveSelected.disabled = selected.size === 0;
    if (!pending.length) return replace(pendingBox, el('p', { id: 'pending-none' }, t('users.noPending')));
    const all = el('input', { type: 'checkbox', id: 'pending-all', 'aria-label': t('users.selectAll'), checked: pending.every((u) => selected.has(u.userName)), onchange: (ev) => {
      for (const u of pending) ev.target.checked ? selected.add(u.userName) : selected.delete(u.userName);
      renderPending(total);
    } });
    replace(pendingBox,
      el('div', { class: 'scroll' }, el('table', { id: 'pending-table' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col', class: 'check' }, all), el('th', { scope: 'col' }, t('user.userName')), el('th', { scope: 'col' }, t('user.firstName')), el('th', { scope: 'col' }, t('user.lastName')), el('th', { scope: 'col' }, t('user.tenant')), el('th', { scope: 'col' }, t('user.createdAt')))),
        el('tbody', {}, pending.map((u) => el('tr', { dataset: { user: u.userName } },
          el('td', { class: 'check' }, el('input', { type: 'checkbox', 'aria-label': t('users.select', { name: u.userName }), checked: selected.has(u.userName), dataset: { user: u.userName }, onchange: (ev) => {
            ev.target.checked ? selected.add(u.userName) : selected.delete(u.userName);
            approveSelected.disabled = selected.size === 0;
          } })),
          el('th', { scope: 'row' }, u.userName), el('td', {}, u.firstName ?? ''), el('td', {}, u.lastName ?? ''), el('td', {}, u.tenant ?? '—'), el('td', {}, fmtDate(u.createdAt, true))))))),
      total > pending.length ? el('p', { class: 'muted' }, t('common.showing', { shown: pending.length, total })) : null);
  }

  async function approve(bodyOrAll) {
    replace(pendingMessage);
    try {
      const r = await api('POST', '/users/approve', bodyOrAll);
      for (const n of r.approved) selected.delete(n);
      replace(pendingMessage, el('p', { class: 'ok', id: 'approved' }, t('users.approved', { n: r.approved.length, names: r.approved.slice(0, 10).join(', ') }), r.stillPending ? ` ${t('users.stillPending', { n: r.stillPending })}` : ''));
      return r;
    } catch (e) {
      replace(pendingMessage, refusalView(e));
      throw e;
    } finally {
      loadPending();
    }
  }

  approveSelected.addEventListener('click', () => approve({ userNames: [...selected] }).catch(() => {}));
  // The server approves as many as fit, longest waiting first, and says how many still wait.
  approveFit.addEventListener('click', () => approve({ all: true }).catch(() => {}));

  async function loadTenants() {
    try {
      const r = await api('GET', '/tenants');
      if (!r.tenants.length) return replace(tenantsBox, el('p', {}, t('users.noTenants')));
      replace(tenantsBox,
        el('div', { class: 'scroll' }, el('table', { id: 'tenants-table' },
          el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('tenant.name')), el('th', { scope: 'col' }, t('tenant.used')), el('th', { scope: 'col' }, t('tenant.pending')), el('th', { scope: 'col' }, t('tenant.seats')))),
          el('tbody', {}, r.tenants.map((pool) => {
            const id = `pool-${pool.name}`.replace(/[^\w-]/g, '_');
            const input = el('input', { id, type: 'number', min: String(pool.used), value: String(pool.seats), class: 'num' });
            return el('tr', { dataset: { tenant: pool.name } },
              el('th', { scope: 'row' }, pool.name),
              el('td', {}, t('license.usedOf', { used: pool.used, total: pool.seats })),
              el('td', {}, pool.pending ?? 0),
              el('td', {},
                el('label', { for: id, class: 'sr-only' }, t('tenant.seatsOf', { name: pool.name })), input, ' ',
                el('button', { type: 'button', onclick: async () => {
                  replace(tenantsMessage);
                  try {
                    await api('PUT', `/tenants/${encodeURIComponent(pool.name)}`, { seats: Number(input.value) });
                    replace(tenantsMessage, el('p', { class: 'ok' }, t('common.saved')));
                  } catch (e) {
                    replace(tenantsMessage, refusalView(e));
                  }
                } }, t('common.save'))));
          })))),
        el('p', { class: 'muted', id: 'unpooled' }, t('users.unpooled', { n: Math.max(0, (r.total ?? 0) - (r.pooled ?? 0)) })));
    } catch (e) {
      unavailable(tenantsBox, e);
    }
  }

  const sort = { key: 'userName', order: 'asc' };
  const pages = pager('users', PAGE_SIZE, () => loadUsers());
  usersPager.replaceWith(pages.node);

  async function remove(u) {
    const yes = await confirmAction({ title: t('users.deleteTitle', { name: u.userName }), text: t('users.deleteText', { name: u.userName }), confirm: t('common.delete') });
    if (!yes) return;
    replace(usersMessage);
    try {
      await api('DELETE', `/users/${encodeURIComponent(u.userName)}`);
      replace(usersMessage, el('p', { class: 'ok' }, t('users.deleted', { name: u.userName })));
    } catch (e) {
      replace(usersMessage, refusalView(e));
    }
    loadUsers();
  }

  async function loadUsers() {
    const params = new URLSearchParams({ status: 'active', limit: String(PAGE_SIZE), offset: String(pages.offset), sort: sort.key, order: sort.order });
    if (filter.value.trim()) params.set('q', filter.value.trim());
    try {
      const r = await api('GET', `/users?${params}`);
      pages.update(r.users.length, r.total);
      // Sortable where the server keeps an index: names and arrival.
      const cols = [['userName', 'userName'], ['firstName', 'firstName'], ['lastName', 'lastName'], ['tenant', null], ['extension', null], ['lastActiveAt', null], ['actions', null]];
      replace(usersBox,
        el('table', { id: 'users-table', class: 'cards' },
          el('thead', {}, sortableHead(cols.map(([k, key]) => [t(`user.${k}`), key]), sort, () => (pages.reset(), loadUsers()))),
          el('tbody', {}, r.users.map((u) => el('tr', { dataset: { user: u.userName } },
            el('th', { scope: 'row', class: 'first' }, u.userName, u.builtin ? el('span', { class: 'badge' }, t('user.builtin')) : null),
            el('td', { dataset: { label: t('user.firstName') } }, u.firstName ?? ''), el('td', { dataset: { label: t('user.lastName') } }, u.lastName ?? ''),
            el('td', { dataset: { label: t('user.tenant') } }, u.tenant ?? '—'), el('td', { dataset: { label: t('user.extension') } }, u.extension ?? ''),
            el('td', { dataset: { label: t('user.lastActiveAt') } }, fmtDate(u.lastActiveAt, true)),
            el('td', { class: 'row-actions' },
              el('button', { type: 'button', 'aria-label': t('users.editLabel', { name: u.userName }), onclick: () => userDialog(u, (msg) => (replace(usersMessage, el('p', { class: 'ok', id: 'users-done' }, msg)), loadUsers())) }, t('common.edit')),
              u.builtin ? null : el('button', { type: 'button', 'aria-label': t('users.deleteLabel', { name: u.userName }), onclick: () => remove(u) }, t('common.delete'))))))));
    } catch (e) {
      unavailable(usersBox, e);
    }
  }

  async function loadSuspended() {
    try {
      const r = await api('GET', '/user-licenses/suspended?limit=100');
      if (!r.total) return replace(suspendedBox, el('p', { id: 'suspended-none' }, t('users.noSuspended')));
      replace(suspendedBox,
        el('p', {}, tn('users.suspendedIntro', r.total)),
        el('ul', { id: 'suspended-list', class: 'plain' }, r.users.map((u) => el('li', { dataset: { user: u.userName } },
          el('strong', {}, u.userName), [u.firstName, u.lastName].some(Boolean) ? ` (${[u.firstName, u.lastName].filter(Boolean).join(' ')})` : '', ': ',
          fmtList(u.codes.map(codeLabel))))),
        r.total > r.users.length ? el('p', { class: 'muted' }, t('common.showing', { shown: fmtNumber(r.users.length), total: fmtNumber(r.total) })) : null);
    } catch (e) {
      unavailable(suspendedBox, e);
    }
  }

  filter.addEventListener('input', debounce(() => (pages.reset(), loadUsers()), 200));
  addButton.addEventListener('click', () => userDialog(null, (msg) => (replace(usersMessage, el('p', { class: 'ok', id: 'users-done' }, msg)), loadUsers())));
  const reloadAll = () => (loadPending(), loadTenants(), loadUsers(), loadSuspended());
  const reload = debounce(reloadAll, 150);
  reloadAll();

  return {
    onStatus: showSeats,
    onEvent(name) {
      if (['users.changed', 'tenants.changed', 'license.activated', 'mode.changed', 'userLicenses.changed'].includes(name)) reload();
    },
    refresh: reloadAll,
  };
}
