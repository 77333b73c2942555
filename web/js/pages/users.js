// Users: seats in use, pending approvals (approve selected / as many as fit),
// tenants' seat pools, and the user list with a filter.
import { api, ApiError, debounce, el, fmtDate, refusalView, replace, t } from '../lib.js';

export function mount(main, ctx) {
  const seats = el('p', { id: 'seats', class: 'seats' });
  const pendingBox = el('div', { id: 'pending-box' });
  const pendingMessage = el('div', { id: 'pending-message', 'aria-live': 'polite' });
  const tenantsBox = el('div', { id: 'tenants-box' });
  const tenantsMessage = el('div', { id: 'tenants-message', 'aria-live': 'polite' });
  const filter = el('input', { id: 'users-filter', type: 'search', autocomplete: 'off' });
  const usersBox = el('div', { id: 'users-box', class: 'scroll' });
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
      el('h2', { id: 'users-title' }, t('users.list')),
      el('div', { class: 'filter' }, el('label', { for: 'users-filter' }, t('common.filter')), filter),
      usersBox));

  const showSeats = (s) => {
    const u = s?.codes?.find((c) => c.code === 'users');
    if (u) seats.textContent = t('users.seats', { used: u.used, total: u.total });
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
          el('tbody', {}, r.tenants.map((tn) => {
            const id = `pool-${tn.name}`.replace(/[^\w-]/g, '_');
            const input = el('input', { id, type: 'number', min: String(tn.used), value: String(tn.seats), class: 'num' });
            return el('tr', { dataset: { tenant: tn.name } },
              el('th', { scope: 'row' }, tn.name),
              el('td', {}, t('license.usedOf', { used: tn.used, total: tn.seats })),
              el('td', {}, tn.pending ?? 0),
              el('td', {},
                el('label', { for: id, class: 'sr-only' }, t('tenant.seatsOf', { name: tn.name })), input, ' ',
                el('button', { type: 'button', onclick: async () => {
                  replace(tenantsMessage);
                  try {
                    await api('PUT', `/tenants/${encodeURIComponent(tn.name)}`, { seats: Number(input.value) });
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

  async function loadUsers() {
    try {
      const r = await api('GET', `/users?status=active&limit=200&q=${encodeURIComponent(filter.value.trim())}`);
      replace(usersBox,
        el('table', { id: 'users-table' },
          el('thead', {}, el('tr', {}, ['userName', 'firstName', 'lastName', 'tenant', 'extension', 'lastActiveAt'].map((k) => el('th', { scope: 'col' }, t(`user.${k}`))))),
          el('tbody', {}, r.users.map((u) => el('tr', { dataset: { user: u.userName } },
            el('th', { scope: 'row' }, u.userName, u.builtin ? el('span', { class: 'badge' }, t('user.builtin')) : null),
            el('td', {}, u.firstName ?? ''), el('td', {}, u.lastName ?? ''), el('td', {}, u.tenant ?? '—'), el('td', {}, u.extension ?? ''), el('td', {}, fmtDate(u.lastActiveAt, true)))))),
        el('p', { class: 'muted' }, t('common.showing', { shown: r.users.length, total: r.total })));
    } catch (e) {
      unavailable(usersBox, e);
    }
  }

  filter.addEventListener('input', debounce(loadUsers, 200));
  const reloadAll = () => (loadPending(), loadTenants(), loadUsers());
  const reload = debounce(reloadAll, 150);
  reloadAll();

  return {
    onStatus: showSeats,
    onEvent(name) {
      if (name === 'users.changed' || name === 'tenants.changed' || name === 'license.activated' || name === 'mode.changed') reload();
    },
    refresh: reloadAll,
  };
}
