// The license page: status block, upload dialog (stage → changes → activate,
// with the removal plan when the new file grants less), and the per-user license
// table (checkbox per code, "used/total" in the header, filter, Save, Reset).
import { api, ApiError, debounce, el, facts, fmtDate, fmtNumber, modeReason, refusalView, replace, t, tn, tr } from '../lib.js';

export function mount(main, ctx) {
  const statusBox = el('div', { id: 'license-status' });
  const pageMessage = el('div', { id: 'license-message', 'aria-live': 'polite' });
  const table = licenseTable();
  const dialog = uploadDialog((msg) => replace(pageMessage, el('p', { class: 'ok' }, msg)));

  replace(main,
    el('div', { class: 'toolbar' },
      el('h1', {}, t('license.title')),
      el('div', { class: 'actions' },
        el('button', { id: 'upload-open', type: 'button', onclick: () => dialog.open() }, t('license.upload')))),
    pageMessage,
    el('details', { open: true, class: 'card' }, el('summary', {}, el('h2', {}, t('license.status'))), statusBox),
    table.section,
    dialog.node);

  const renderStatus = (s) => replace(statusBox, statusView(s));
  if (ctx.status()) renderStatus(ctx.status());
  else api('GET', '/status').then(renderStatus, () => {});
  table.load();

  return {
    onStatus(s) {
      renderStatus(s);
      table.onStatus(s);
    },
    onEvent(name, events) {
      table.onEvent(name, events);
      if (name === 'license.staged') dialog.onStaged(events);
    },
    refresh() {
      api('GET', '/status').then(renderStatus, () => {});
      table.load();
    },
    unmount() {
      dialog.node.close?.();
    },
    unsaved: () => table.unsaved(),
  };
}

function statusView(s) {
  const op = s.operator;
  const kind = !s.licenseId ? '—' : s.provisional ? t('license.kind.provisional') : t('license.kind.activated');
  const server = s.codes.filter((c) => c.scope === 'server');
  const perUser = s.codes.filter((c) => c.scope === 'user');
  const codeList = (codes) => el('ul', { class: 'codes' }, codes.map((c) =>
    el('li', { dataset: { code: c.code }, class: c.used > c.total ? 'over' : '' }, `${tr(c.label)}: `, el('span', { class: 'count' }, t('license.usedOf', { used: fmtNumber(c.used), total: fmtNumber(c.total) })))));
  return el('div', { class: 'status-grid' },
    facts([
      [t('license.edition'), [el('span', { id: 'status-edition' }, s.edition), s.trial ? el('span', { class: 'badge trial', id: 'status-trial' }, t('license.trial')) : null]],
      [t('license.kind'), el('span', { id: 'status-kind' }, kind)],
      [t('license.mode'), [el('span', { id: 'status-mode', class: `mode ${s.mode}` }, t(`mode.${s.mode}`)), ' — ', el('span', { id: 'status-reason' }, modeReason(s))]],
      s.licenseId ? [t('license.id'), s.licenseId] : null,
      [t('license.systemId'), el('code', { id: 'status-system-id' }, s.systemId)],
      [t('license.expires'), s.licenseId ? (s.expiresAt ? fmtDate(s.expiresAt) : t('license.noExpiry')) : '—'],
      s.mode === 'grace' ? [t('license.grace'), el('span', { id: 'status-grace' }, t('license.graceLeft', { days: s.graceDaysLeft, date: fmtDate(s.graceEndsAt) }))] : null,
      [t('license.updateService'), fmtDate(s.updateServiceUntil)],
      s.activatedAt ? [t('license.activatedAt'), fmtDate(s.activatedAt, true)] : null,
      s.suspendedLicenses ? [t('license.suspended'), el('span', { id: 'status-suspended', class: 'warn' }, tn('license.suspendedHint', s.suspendedLicenses))] : null,
    ]),
    el('div', {},
      el('h3', {}, t('license.operator')),
      op ? el('address', { id: 'status-operator' }, op.company, el('br'), op.street ?? '', el('br'), [op.postcode, op.city].filter(Boolean).join(' ')) : el('p', {}, '—'),
      el('h3', {}, t('license.included')),
      el('div', { id: 'status-codes' }, codeList(server), perUser.length ? codeList(perUser) : null)));
}

// ── upload dialog ──

function uploadDialog(onActivated) {
  const file = el('input', { id: 'license-file', type: 'file', accept: '.lic,.txt,.pem,text/plain,application/octet-stream' });
  const pasted = el('textarea', { id: 'license-text', rows: 6, spellcheck: 'false', autocomplete: 'off' });
  const choose = el('div', { id: 'upload-choose' },
    el('label', { for: 'license-file' }, t('upload.file')), file,
    el('label', { for: 'license-text' }, t('upload.paste')), pasted);
  const otherButton = el('button', { id: 'upload-other', type: 'button', hidden: true, onclick: () => {
    reset();
    file.focus();
  } }, t('upload.other'));
  const body = el('div', { id: 'upload-body' });
  const message = el('div', { id: 'upload-message', 'aria-live': 'assertive' });
  const uploadButton = el('button', { id: 'upload-submit', type: 'submit', class: 'primary' }, t('upload.submit'));
  const activateButton = el('button', { id: 'upload-activate', type: 'button', class: 'primary', hidden: true }, t('upload.activate'));
  const closeButton = el('button', { id: 'upload-cancel', type: 'button' }, t('common.cancel'));
  let staged = null; // { stageId, payload, changes, overused, plan }
  /** Holders the admin chose to release: key kind|id|code. */
  let chosen = new Set();
  /** The over-used codes as the dialog shows them. */
  let shownCodes = [];

  const form = el('form', { method: 'dialog', onsubmit: async (ev) => {
    ev.preventDefault();
    replace(message);
    const f = file.files?.[0];
    if (!f && !pasted.value.trim()) return replace(message, el('p', { class: 'notice' }, t('upload.chooseFile')));
    try {
      const text = f ? await f.text() : pasted.value;
      showStaged(await api('POST', '/license/stage', undefined, { raw: text, contentType: 'text/plain' }));
    } catch (e) {
      replace(message, refusalView(e));
    }
  } },
  el('h2', { id: 'upload-title' }, t('upload.title')),
  choose,
  body,
  message,
  el('div', { class: 'actions' }, closeButton, otherButton, uploadButton, activateButton));

  const node = el('dialog', { id: 'upload-dialog', 'aria-labelledby': 'upload-title' }, form);
  closeButton.addEventListener('click', () => node.close());

  function reset() {
    staged = null;
    chosen = new Set();
    file.value = '';
    pasted.value = '';
    replace(body);
    replace(message);
    uploadButton.hidden = false;
    activateButton.hidden = true;
    otherButton.hidden = true;
    choose.hidden = false;
  }
  // A file picked while another is staged starts over with it (Activate must never take the old one).
  file.addEventListener('change', () => {
    if (!staged) return;
    const picked = file.files?.[0];
    reset();
    if (picked) {
      const dt = new DataTransfer();
      dt.items.add(picked);
      file.files = dt.files;
    }
  });

  function showStaged(s) {
    staged = s;
    chosen = new Set(s.plan.map(key));
    choose.hidden = true;
    uploadButton.hidden = true;
    activateButton.hidden = false;
    otherButton.hidden = false;
    const p = s.payload;
    replace(body,
      facts([
        [t('license.id'), p.licenseId],
        [t('license.edition'), [p.edition, p.trial ? el('span', { class: 'badge trial' }, t('license.trial')) : null]],
        [t('license.kind'), p.kind === 'provisional' ? t('license.kind.provisional') : t('license.kind.final')],
        [t('license.operator'), p.operator?.company ?? '—'],
        [t('license.expires'), p.expiresAt ? fmtDate(p.expiresAt) : t('license.noExpiry')],
      ]),
      el('h3', {}, t('upload.changes')),
      el('div', { class: 'scroll' }, el('table', { id: 'staged-changes' },
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('upload.code')), el('th', { scope: 'col' }, t('upload.current')), el('th', { scope: 'col' }, t('upload.new')), el('th', { scope: 'col' }, t('upload.used')))),
        el('tbody', {}, s.changes.map((c) => el('tr', { dataset: { code: c.code }, class: [c.old !== c.new ? 'changed' : '', c.toRemove > 0 ? 'over' : ''].join(' ') },
          el('th', { scope: 'row' }, tr(c.label)), el('td', {}, c.old), el('td', {}, c.old !== c.new ? `→ ${c.new}` : c.new), el('td', {}, c.used)))))),
      el('div', { id: 'overuse' }));
    showOveruse(s.overused);
  }

  /**
   * The refusal counts what is left after the admin's removals were tried, and lists only the
   * holders left. The dialog keeps the admin's view instead: every holder shown before (and any
   * new one), the chosen ones still ticked, and the numbers as they stand before removal.
   */
  function withChoice(refused) {
    const before = new Map(shownCodes.map((c) => [c.code, c]));
    const merged = refused.map((c) => {
      const mine = [...chosen].filter((k) => JSON.parse(k)[2] === c.code).length;
      const holders = [...(before.get(c.code)?.holders ?? [])];
      for (const h of c.holders) if (!holders.some((x) => x.kind === h.kind && x.id === h.id)) holders.push(h);
      return { ...c, used: c.used + mine, toRemove: c.toRemove + mine, holders };
    });
    for (const [code, c] of before) if (!merged.some((m) => m.code === code)) merged.push(c);
    return merged;
  }

  function showOveruse(codes) {
    shownCodes = codes ?? [];
    const box = document.getElementById('overuse');
    if (!codes?.length) {
      replace(box);
      activateButton.textContent = t('upload.activate');
      return;
    }
    activateButton.textContent = t('upload.removeAndActivate');
    replace(box,
      el('h3', {}, t('upload.overTitle')),
      el('p', {}, t('upload.overIntro')),
      codes.map((c) => {
        const counter = el('span', { class: 'selected-count', id: `over-count-${c.code}` });
        const updateCounter = () => {
          const n = c.holders.filter((h) => chosen.has(key({ ...h, code: c.code }))).length;
          counter.textContent = t('upload.selected', { n, need: c.toRemove });
          counter.classList.toggle('short', n < c.toRemove);
        };
        updateCounter();
        return el('fieldset', { class: 'overuse', dataset: { code: c.code } },
          el('legend', {}, t('upload.overCode', { label: tr(c.label), used: c.used, total: c.newTotal, remove: c.toRemove })),
          counter,
          el('ul', { class: 'holders' }, c.holders.map((h) => {
            const id = `hold-${c.code}-${h.kind}-${h.id}`.replace(/[^\w-]/g, '_');
            return el('li', {},
              el('input', { type: 'checkbox', id, checked: chosen.has(key({ ...h, code: c.code })), dataset: { holder: h.id, kind: h.kind }, onchange: (ev) => {
                const k = key({ ...h, code: c.code });
                if (ev.target.checked) chosen.add(k);
                else chosen.delete(k);
                updateCounter();
              } }),
              el('label', { for: id }, h.name, h.name !== h.id ? ` · ${h.id}` : '', ' ', el('span', { class: 'muted' }, `(${t(`holder.${h.kind}`)}, ${t('upload.lastActive')} ${h.lastActive ? fmtDate(h.lastActive, true) : t('upload.never')})`)));
          })));
      }));
  }

  activateButton.addEventListener('click', async () => {
    if (!staged) return;
    replace(message);
    activateButton.disabled = true;
    try {
      const plan = [...chosen].map((k) => {
        const [kind, id, code] = JSON.parse(k);
        return { kind, id, code };
      });
      const r = await api('POST', '/license/activate', { stageId: staged.stageId, ...(plan.length ? { plan } : {}) });
      node.close();
      onActivated(t('upload.activated', { id: r.payload.licenseId, edition: r.payload.edition }));
    } catch (e) {
      replace(message, refusalView(e));
      // Refused for over-use (too few chosen, or more was assigned meanwhile): the current numbers and
      // holders, with the admin's own choice kept (the server's plan is only a suggestion for a first look).
      if (e instanceof ApiError && e.code === 'LIC_OVERUSED') showOveruse(withChoice(e.refusal.details.codes ?? []));
    } finally {
      activateButton.disabled = false;
    }
  });

  return {
    node,
    open() {
      reset();
      node.showModal();
      file.focus();
    },
    /** Only one file is staged at a time: if someone else staged another, ours is gone; say so before Activate fails. */
    onStaged(events) {
      if (!staged || !node.open) return;
      if (events.some((e) => e.data.stageId !== staged.stageId)) {
        replace(message, el('p', { class: 'notice', id: 'upload-replaced' }, t('upload.replaced', { by: events.at(-1).data.by })));
      }
    },
  };
}

const key = (s) => JSON.stringify([s.kind, s.id, s.code]);

// ── per-user license table ──

const PAGE_SIZE = 50;

function licenseTable() {
  const filter = el('input', { id: 'ul-filter', type: 'search', autocomplete: 'off' });
  const message = el('div', { id: 'ul-message', 'aria-live': 'polite' });
  const info = el('span', { id: 'ul-info', class: 'muted' });
  const tableBox = el('div', { class: 'table-box', id: 'ul-table-box' });
  const saveButton = el('button', { id: 'ul-save', type: 'button', class: 'primary', disabled: true }, t('common.save'));
  const resetButton = el('button', { id: 'ul-reset', type: 'button', disabled: true }, t('common.reset'));
  const unsavedInfo = el('span', { id: 'ul-unsaved', 'aria-live': 'polite' });
  const prev = el('button', { id: 'ul-prev', type: 'button', disabled: true, onclick: () => go(offset - PAGE_SIZE) }, t('common.prev'));
  const next = el('button', { id: 'ul-next', type: 'button', disabled: true, onclick: () => go(offset + PAGE_SIZE) }, t('common.next'));
  // The action bar stays in view at the bottom of the window however long the table is.
  const bar = el('div', { class: 'sticky-bar', id: 'ul-bar' },
    unsavedInfo,
    el('span', { class: 'pager' }, prev, info, next),
    el('span', { class: 'actions' }, resetButton, saveButton));
  const section = el('section', { class: 'card', 'aria-labelledby': 'ul-title' },
    el('h2', { id: 'ul-title' }, t('userlic.title')),
    el('div', { class: 'filter' }, el('label', { for: 'ul-filter' }, t('common.filter')), filter),
    message, tableBox, bar);

  let codes = []; // [{ code, label, used, total }] — used as the server counts it
  let rows = []; // [{ userName, firstName, lastName, licenses }] of the page shown
  let offset = 0;
  let total = 0;
  /** The batch: JSON [user, code] → wanted boolean, differing from the server's. Kept across pages and filters. */
  const edits = new Map();
  const boxes = new Map(); // same key → checkbox
  const heads = new Map(); // code → header count span
  let available = true;

  const cellKey = (u, c) => JSON.stringify([u, c]);
  const serverHas = (u, c) => !!rows.find((r) => r.userName === u)?.licenses?.[c];

  function go(to) {
    offset = Math.max(0, to);
    load();
  }

  async function load() {
    try {
      const r = await api('GET', `/user-licenses?limit=${PAGE_SIZE}&offset=${offset}&q=${encodeURIComponent(filter.value.trim())}`);
      available = true;
      codes = r.codes;
      rows = r.users;
      total = r.total;
      if (rows.length === 0 && offset > 0 && total > 0) return go(Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE);
      info.textContent = rows.length ? t('common.range', { from: fmtNumber(offset + 1), to: fmtNumber(offset + rows.length), total: fmtNumber(total) }) : '';
      prev.disabled = offset === 0;
      next.disabled = offset + rows.length >= total;
      render();
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && e.code === 'REQ_NOT_FOUND') {
        available = false;
        replace(tableBox, el('p', { class: 'notice' }, t('userlic.unavailable')));
      } else replace(message, refusalView(e));
    }
  }

  function markCell(box, k) {
    const cell = box.parentElement;
    cell?.classList.toggle('unsaved', edits.has(k));
    if (cell) cell.title = edits.has(k) ? t('userlic.unsavedCell') : '';
  }

  function render() {
    boxes.clear();
    heads.clear();
    if (!codes.length) {
      replace(tableBox, el('p', { class: 'notice', id: 'ul-none' }, t('userlic.noCodes')));
      updateCounts();
      return;
    }
    const head = el('tr', {},
      el('th', { scope: 'col', class: 'first' }, t('user.userName')), el('th', { scope: 'col' }, t('user.firstName')), el('th', { scope: 'col' }, t('user.lastName')),
      codes.map((c) => {
        const count = el('span', { class: 'count', id: `ul-count-${c.code}` });
        heads.set(c.code, count);
        return el('th', { scope: 'col', class: 'code', dataset: { code: c.code }, id: `ul-head-${c.code}` }, tr(c.label), ' ', count);
      }));
    const body = rows.map((u) =>
      el('tr', { dataset: { user: u.userName } },
        el('th', { scope: 'row', class: 'first' }, u.userName), el('td', {}, u.firstName ?? ''), el('td', {}, u.lastName ?? ''),
        codes.map((c) => {
          const k = cellKey(u.userName, c.code);
          const box = el('input', {
            type: 'checkbox',
            checked: edits.has(k) ? edits.get(k) : !!u.licenses?.[c.code],
            'aria-label': `${tr(c.label)}: ${u.userName}`,
            dataset: { user: u.userName, code: c.code },
            onchange: (ev) => {
              if (ev.target.checked === serverHas(u.userName, c.code)) edits.delete(k);
              else edits.set(k, ev.target.checked);
              markCell(ev.target, k);
              replace(message);
              updateCounts();
            },
          });
          boxes.set(k, box);
          const cell = el('td', { class: 'check' }, box);
          if (edits.has(k)) {
            cell.classList.add('unsaved');
            cell.title = t('userlic.unsavedCell');
          }
          return cell;
        })));
    replace(tableBox, el('table', { id: 'ul-table' }, el('thead', {}, head), el('tbody', {}, body)));
    updateCounts();
  }

  /** Header counts: the server's used count plus the unsaved ticks minus the unsaved unticks. */
  function updateCounts() {
    for (const c of codes) {
      let used = c.used;
      for (const [k, want] of edits) if (JSON.parse(k)[1] === c.code) used += want ? 1 : -1;
      const span = heads.get(c.code);
      if (!span) continue;
      span.textContent = `(${fmtNumber(used)}/${fmtNumber(c.total)})`;
      span.parentElement.classList.toggle('over', used > c.total);
    }
    saveButton.disabled = resetButton.disabled = edits.size === 0;
    unsavedInfo.textContent = edits.size ? tn('userlic.unsaved', edits.size) : t('userlic.allSaved');
    unsavedInfo.classList.toggle('pending', edits.size > 0);
  }

  saveButton.addEventListener('click', async () => {
    const changes = [...edits].map(([k, assigned]) => {
      const [userName, code] = JSON.parse(k);
      return { userName, code, assigned };
    });
    saveButton.disabled = true;
    try {
      const r = await api('POST', '/user-licenses', { changes });
      for (const ch of changes) {
        const row = rows.find((x) => x.userName === ch.userName);
        if (row) row.licenses = { ...row.licenses, [ch.code]: ch.assigned };
      }
      edits.clear();
      for (const [k, box] of boxes) markCell(box, k);
      if (Array.isArray(r?.codes)) mergeCodes(r.codes);
      replace(message, el('p', { class: 'ok', id: 'ul-saved' }, tn('userlic.saved', changes.length)));
      updateCounts();
    } catch (e) {
      replace(message, refusalView(e));
      updateCounts();
    }
  });

  resetButton.addEventListener('click', () => {
    edits.clear();
    for (const [k, box] of boxes) {
      const [u, c] = JSON.parse(k);
      box.checked = serverHas(u, c);
      markCell(box, k);
    }
    replace(message);
    updateCounts();
  });

  function mergeCodes(fresh) {
    const known = new Set(codes.map((c) => c.code));
    const freshSet = new Set(fresh.map((c) => c.code));
    // A new per-user code in a license is a new column; one that is gone leaves.
    if (fresh.some((c) => !known.has(c.code)) || codes.some((c) => !freshSet.has(c.code))) {
      codes = fresh.map((c) => ({ code: c.code, label: c.label, used: c.used, total: c.total }));
      render();
      return;
    }
    for (const c of codes) Object.assign(c, fresh.find((f) => f.code === c.code) ?? {});
    updateCounts();
  }

  const reload = debounce(load, 150);
  filter.addEventListener('input', debounce(() => go(0), 200));

  return {
    section, load,
    unsaved: () => edits.size > 0,
    onStatus(s) {
      if (!available) return;
      mergeCodes(s.codes.filter((c) => c.scope === 'user'));
    },
    onEvent(name, events) {
      if (!available) return;
      if (name === 'userLicenses.changed') {
        for (const e of events) for (const ch of e.data.changes ?? []) {
          const k = cellKey(ch.userName, ch.code);
          // Someone else saved what this batch wanted: it is no longer a change.
          if (edits.get(k) === ch.assigned) edits.delete(k);
          const row = rows.find((r) => r.userName === ch.userName);
          if (!row) continue;
          row.licenses = { ...row.licenses, [ch.code]: ch.assigned };
          const box = boxes.get(k);
          if (box && !edits.has(k)) box.checked = ch.assigned;
          if (box) markCell(box, k);
        }
        updateCounts();
      } else if (name === 'users.changed' || name === 'license.activated' || name === 'mode.changed') {
        reload();
      }
    },
  };
}
