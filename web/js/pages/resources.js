// Auto attendants (open/closed live, next switch) and SIP trunks (channels), each with used/total
// from the license. Texts: resources.* in web/i18n/<lang>.json.
import { api, confirmAction, debounce, el, lang, refusalView, replace, t } from '../lib.js';

const tx = (key, vars = {}) => t(`resources.${key}`, vars);
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
/** A time as the attendant's callers see it: in its own time zone. */
const local = (iso, timeZone) => new Date(iso).toLocaleString(lang, { timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

function field(id, label, input) {
  return el('span', { class: 'field' }, el('label', { for: id }, label), ' ', input);
}

export function mount(main) {
  const aaTitle = el('h2', { id: 'aa-title' });
  const aaBox = el('div', { id: 'aa-box', class: 'scroll' });
  const trunkTitle = el('h2', { id: 'trunk-title' });
  const trunkBox = el('div', { id: 'trunk-box', class: 'scroll' });
  const message = el('div', { id: 'resources-message', 'aria-live': 'polite' });

  replace(main,
    el('div', { class: 'toolbar' }, el('h1', {}, tx('title'))),
    message,
    el('section', { class: 'card', 'aria-labelledby': 'aa-title' }, aaTitle, aaBox, attendantForm()),
    el('section', { class: 'card', 'aria-labelledby': 'trunk-title' }, trunkTitle, trunkBox, trunkForm()));

  async function act(fn, done) {
    replace(message);
    try {
      await fn();
      if (done) replace(message, el('p', { class: 'ok' }, done));
    } catch (e) {
      replace(message, refusalView(e));
    }
    load();
  }

  async function confirmDelete(name, fn) {
    if (await confirmAction({ title: tx('deleteTitle', { name }), text: tx('deleteText', { name }), confirm: tx('delete') })) act(fn, null);
  }

  function attendantForm() {
    const name = el('input', { id: 'aa-name', required: true, size: 16 });
    const numbers = el('input', { id: 'aa-numbers', required: true, size: 20, placeholder: tx('numbersHint') });
    const zone = el('input', { id: 'aa-zone', required: true, size: 16, value: Intl.DateTimeFormat().resolvedOptions().timeZone });
    const days = Object.fromEntries(WEEKDAYS.map((d, i) => [d, el('input', { id: `aa-day-${d}`, type: 'checkbox', defaultChecked: i < 5 })]));
    const from = el('input', { id: 'aa-from', type: 'time', value: '08:00', required: true });
    const to = el('input', { id: 'aa-to', type: 'time', value: '17:00', required: true });
    const holidays = el('input', { id: 'aa-holidays', size: 30 });
    const greeting = el('input', { id: 'aa-greeting', required: true, size: 16, value: 'welcome' });
    const forward = el('input', { id: 'aa-forward', required: true, size: 16 });
    return el('form', { id: 'aa-form', class: 'stack', onsubmit: (ev) => {
      ev.preventDefault();
      const hours = [{ from: from.value, to: to.value === '00:00' ? '24:00' : to.value }];
      const body = {
        name: name.value.trim(),
        numbers: list(numbers.value),
        schedule: { timeZone: zone.value.trim(), weekly: Object.fromEntries(WEEKDAYS.filter((d) => days[d].checked).map((d) => [d, hours])), holidays: list(holidays.value) },
        inHours: { kind: 'greeting', greeting: greeting.value.trim(), options: [] },
        outOfHours: { kind: 'forward', target: forward.value.trim() },
      };
      act(() => api('POST', '/auto-attendants', body), null).then(() => {
        if (!message.querySelector('.refusal')) ev.target.reset();
      });
    } },
    el('h3', {}, tx('newAa')),
    el('div', {}, field('aa-name', tx('name'), name), ' ', field('aa-numbers', tx('numbers'), numbers), ' ', field('aa-zone', tx('zone'), zone)),
    el('div', {}, tx('days'), ' ', WEEKDAYS.map((d) => el('span', { class: 'day' }, days[d], el('label', { for: `aa-day-${d}` }, tx(`weekday.${d}`)), ' ')),
      ' · ', field('aa-from', tx('from'), from), ' ', field('aa-to', tx('to'), to)),
    el('div', {}, field('aa-holidays', tx('holidays'), holidays)),
    el('div', {}, field('aa-greeting', tx('greeting'), greeting), ' ', field('aa-forward', tx('forward'), forward), ' ',
      el('button', { type: 'submit', class: 'primary' }, tx('add'))));
  }

  function trunkForm() {
    const inputs = {
      name: el('input', { id: 'trunk-name', required: true, size: 14 }),
      registrar: el('input', { id: 'trunk-registrar', required: true, size: 22 }),
      username: el('input', { id: 'trunk-username', required: true, size: 12, autocomplete: 'off' }),
      password: el('input', { id: 'trunk-password', type: 'password', required: true, size: 12, autocomplete: 'new-password' }),
      channels: el('input', { id: 'trunk-channels', type: 'number', min: 0, required: true, value: '10', class: 'num' }),
    };
    return el('form', { id: 'trunk-form', class: 'stack', onsubmit: (ev) => {
      ev.preventDefault();
      const body = Object.fromEntries(Object.entries(inputs).map(([k, i]) => [k, k === 'channels' ? Number(i.value) : i.value.trim()]));
      act(() => api('POST', '/sip-trunks', body), null).then(() => {
        if (!message.querySelector('.refusal')) ev.target.reset();
      });
    } },
    el('h3', {}, tx('newTrunk')),
    el('div', {}, Object.entries(inputs).map(([k, i]) => [field(i.id, tx(k), i), ' ']), el('button', { type: 'submit', class: 'primary' }, tx('add'))));
  }

  function channelsForm(trunk) {
    const id = `channels-${trunk.name}`.replace(/[^\w-]/g, '_');
    const input = el('input', { id, type: 'number', min: 0, value: String(trunk.channels), class: 'num' });
    return el('form', { class: 'inline', onsubmit: (ev) => {
      ev.preventDefault();
      act(() => api('PATCH', `/sip-trunks/${encodeURIComponent(trunk.name)}`, { channels: Number(input.value) }), null);
    } }, el('label', { for: id, class: 'sr-only' }, `${tx('channels')} ${trunk.name}`), input, ' ', el('button', { type: 'submit' }, tx('save')));
  }

  async function load() {
    try {
      const [aa, trunks] = await Promise.all([api('GET', '/auto-attendants'), api('GET', '/sip-trunks')]);
      replace(aaTitle, tx('attendants', aa));
      replace(aaBox, aa.autoAttendants.length === 0 ? el('p', { id: 'aa-none' }, tx('noneAa')) : el('table', { id: 'aa-table', class: 'cards' },
        el('thead', {}, el('tr', {}, ['name', 'numbers', 'state', 'since', 'next', 'zone', 'actions'].map((k) => el('th', { scope: 'col' }, tx(k))))),
        el('tbody', {}, aa.autoAttendants.map((a) => el('tr', { dataset: { name: a.name, state: a.state } },
          el('th', { scope: 'row' }, a.name),
          el('td', { dataset: { label: tx('numbers') } }, a.numbers.join(', ')),
          el('td', { dataset: { label: tx('state') } }, el('span', { class: `state ${a.state === 'open' ? 'licensed' : 'waiting'}` }, tx(a.state))),
          el('td', { dataset: { label: tx('since') } }, local(a.since, a.schedule.timeZone)),
          el('td', { dataset: { label: tx('next') } }, a.nextChange ? local(a.nextChange, a.schedule.timeZone) : tx('never')),
          el('td', { dataset: { label: tx('zone') } }, a.schedule.timeZone),
          el('td', { class: 'actions' }, el('button', { type: 'button', onclick: () => confirmDelete(a.name, () => api('DELETE', `/auto-attendants/${encodeURIComponent(a.name)}`)) }, tx('delete'))))))));
      replace(trunkTitle, tx('trunks', trunks.channels));
      replace(trunkBox, trunks.trunks.length === 0 ? el('p', { id: 'trunk-none' }, tx('noneTrunk')) : el('table', { id: 'trunk-table', class: 'cards' },
        el('thead', {}, el('tr', {}, ['name', 'registrar', 'username', 'password', 'channels', 'actions'].map((k) => el('th', { scope: 'col' }, tx(k))))),
        el('tbody', {}, trunks.trunks.map((tr) => el('tr', { dataset: { name: tr.name } },
          el('th', { scope: 'row' }, tr.name),
          el('td', { dataset: { label: tx('registrar') } }, el('code', {}, tr.registrar)),
          el('td', { dataset: { label: tx('username') } }, tr.username),
          el('td', { dataset: { label: tx('password') } }, tr.passwordSet ? tx('set') : '—'),
          el('td', { dataset: { label: tx('channels') } }, channelsForm(tr)),
          el('td', { class: 'actions' }, el('button', { type: 'button', onclick: () => confirmDelete(tr.name, () => api('DELETE', `/sip-trunks/${encodeURIComponent(tr.name)}`)) }, tx('delete'))))))));
    } catch (e) {
      replace(aaBox, refusalView(e));
    }
  }

  const reload = debounce(load, 100);
  load();
  return {
    refresh: load,
    onEvent(name, events) {
      if (name === 'autoAttendant.switched') {
        const last = events[events.length - 1]?.data;
        if (last) replace(message, el('p', { class: 'ok', id: 'aa-switched' }, tx('switched', { name: last.name, state: tx(last.state) })));
      }
      if (['autoAttendant.switched', 'autoAttendants.changed', 'sipTrunks.changed', 'license.activated', 'mode.changed'].includes(name)) reload();
    },
  };
}
