// Paged, server-sorted tables: the page asks the API for one page at a time
// (limit/offset/sort/order), so 10,000 rows cost what 50 do.
import { el, fmtNumber, t } from './lib.js';

/** Previous/next and "51–100 of 10,000"; `offset` is the first row shown. */
export function pager(id, size, onChange) {
  const info = el('span', { id: `${id}-range`, class: 'muted', 'aria-live': 'polite' });
  const prev = el('button', { type: 'button', id: `${id}-prev`, disabled: true, onclick: () => move(-size) }, t('common.prev'));
  const next = el('button', { type: 'button', id: `${id}-next`, disabled: true, onclick: () => move(size) }, t('common.next'));
  const node = el('div', { class: 'pager', id: `${id}-pager` }, prev, info, next);
  const p = {
    node,
    offset: 0,
    update(shown, total) {
      info.textContent = shown ? t('common.range', { from: fmtNumber(p.offset + 1), to: fmtNumber(p.offset + shown), total: fmtNumber(total) }) : '';
      prev.disabled = p.offset === 0;
      next.disabled = p.offset + shown >= total;
      node.hidden = total <= size && p.offset === 0;
    },
    reset() {
      p.offset = 0;
    },
  };
  function move(by) {
    p.offset = Math.max(0, p.offset + by);
    onChange();
  }
  return p;
}

/**
 * A header row whose sortable columns are buttons; aria-sort says the order.
 * columns: [[label, sortKey | null], …]; sort: { key, order } (changed in place).
 */
export function sortableHead(columns, sort, onChange) {
  return el('tr', {}, columns.map(([label, key], i) => {
    const cls = i === 0 ? 'first' : undefined;
    if (!key) return el('th', { scope: 'col', class: cls }, label);
    const current = sort.key === key;
    return el('th', { scope: 'col', class: cls, 'aria-sort': current ? (sort.order === 'asc' ? 'ascending' : 'descending') : 'none', dataset: { sort: key } },
      el('button', { type: 'button', class: 'sort', onclick: () => {
        sort.order = current && sort.order === 'asc' ? 'desc' : 'asc';
        sort.key = key;
        onChange();
      } }, label, el('span', { 'aria-hidden': 'true', class: 'arrow' }, current ? (sort.order === 'asc' ? ' ▲' : ' ▼') : '')));
  }));
}
