import { readFileSync } from 'node:fs';
import type { AutoAttendantView } from '../../core/auto-attendants.js';
import type { SipTrunkView } from '../../core/sip-trunks.js';
import type { Args } from '../args.js';
import { table, type Command } from '../command.js';
import { cliText, headings, need, stateWord } from '../messages.js';

const path = (kind: string, name: string | undefined) => {
  if (!name) throw need(cliText('argName'));
  return `/${kind}/${encodeURIComponent(name)}`;
};

function readJson(file: string | undefined): unknown {
  if (!file) throw need(cliText('argJsonFile'));
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(cliText('notJson', file));
  }
}

/** Trunk passwords come from the environment or standard input, never from a flag (ps, shell history). */
function trunkPassword(): string {
  return (process.env.PBXCTL_TRUNK_PASSWORD ?? readFileSync(0, 'utf8')).replace(/\r?\n$/, '');
}

function trunkFields(a: Args): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['registrar', 'username']) if (a.get(k) !== undefined) out[k] = a.get(k);
  if (a.get('channels') !== undefined) out.channels = /^\d+$/.test(a.get('channels')!) ? Number(a.get('channels')) : a.get('channels');
  if (a.get('rename') !== undefined) out.name = a.get('rename');
  return out;
}

const aaRows = (list: AutoAttendantView[]) =>
  table(headings('name', 'numbers', 'state', 'since', 'next change', 'time zone'), list.map((x) => [x.name, x.numbers.join(' '), stateWord(x.state).toUpperCase(), x.since, x.nextChange ?? cliText('never'), x.schedule.timeZone]));
const trunkRows = (list: SipTrunkView[]) => table(headings('name', 'registrar', 'username', 'password', 'channels'), list.map((t) => [t.name, t.registrar, t.username, t.passwordSet ? cliText('set') : '-', t.channels]));

export const resourceCommands: Command[] = [
  {
    words: ['aa', 'list'],
    usage: 'aa list                      auto attendants: open or closed, next switch, licenses used/total',
    async run(api) {
      const r = await api.request<{ used: number; total: number; autoAttendants: AutoAttendantView[] }>('GET', '/auto-attendants');
      return { data: r, text: `${cliText('aaInUse', r.used, r.total)}\n\n${aaRows(r.autoAttendants)}` };
    },
  },
  {
    words: ['aa', 'show'],
    usage: 'aa show NAME                 one auto attendant with its schedule and actions',
    async run(api, a) {
      const r = await api.request<AutoAttendantView>('GET', path('auto-attendants', a.positional[0]));
      return { data: r, text: `${aaRows([r])}\n\n${JSON.stringify({ numbers: r.numbers, schedule: r.schedule, inHours: r.inHours, outOfHours: r.outOfHours }, null, 2)}` };
    },
  },
  {
    words: ['aa', 'add'],
    usage: 'aa add --file FILE           create an auto attendant from JSON {name, numbers, schedule, inHours, outOfHours}',
    async run(api, a) {
      const r = await api.request<AutoAttendantView>('POST', '/auto-attendants', readJson(a.get('file')));
      return { data: r, text: cliText('aaCreated', r.name, stateWord(r.state), r.nextChange ?? cliText('never')) };
    },
  },
  {
    words: ['aa', 'set'],
    usage: 'aa set NAME --file FILE      change an auto attendant (JSON with the fields to change)',
    async run(api, a) {
      const r = await api.request<AutoAttendantView>('PATCH', path('auto-attendants', a.positional[0]), readJson(a.get('file')));
      return { data: r, text: cliText('aaChanged', r.name, stateWord(r.state), r.nextChange ?? cliText('never')) };
    },
  },
  {
    words: ['aa', 'delete'],
    usage: 'aa delete NAME               delete an auto attendant (frees its license)',
    async run(api, a) {
      await api.request('DELETE', path('auto-attendants', a.positional[0]));
      return { data: { ok: true, deleted: a.positional[0] }, text: cliText('aaDeleted', a.positional[0]!) };
    },
  },
  {
    words: ['trunks', 'list'],
    usage: 'trunks list                  SIP trunks and trunk channels used/total',
    async run(api) {
      const r = await api.request<{ channels: { used: number; total: number }; trunks: SipTrunkView[] }>('GET', '/sip-trunks');
      return { data: r, text: `${cliText('trunkChannels', r.channels.used, r.channels.total)}\n\n${trunkRows(r.trunks)}` };
    },
  },
  {
    words: ['trunks', 'add'],
    usage: 'trunks add NAME --registrar HOST --username U --channels N   password from PBXCTL_TRUNK_PASSWORD or standard input',
    async run(api, a) {
      const name = a.positional[0];
      if (!name) throw need(cliText('argName'));
      const r = await api.request<SipTrunkView>('POST', '/sip-trunks', { name, ...trunkFields(a), password: trunkPassword() });
      return { data: r, text: cliText('trunkCreated', r.name, r.channels) };
    },
  },
  {
    words: ['trunks', 'set'],
    usage: 'trunks set NAME [--registrar HOST] [--username U] [--channels N] [--rename NEW] [--password]   --password reads it like add',
    booleanFlags: ['password'],
    async run(api, a) {
      const r = await api.request<SipTrunkView>('PATCH', path('sip-trunks', a.positional[0]), { ...trunkFields(a), ...(a.has('password') ? { password: trunkPassword() } : {}) });
      return { data: r, text: cliText('trunkChanged', r.name, r.channels) };
    },
  },
  {
    words: ['trunks', 'delete'],
    usage: 'trunks delete NAME           delete a SIP trunk (frees its channels)',
    async run(api, a) {
      await api.request('DELETE', path('sip-trunks', a.positional[0]));
      return { data: { ok: true, deleted: a.positional[0] }, text: cliText('trunkDeleted', a.positional[0]!) };
    },
  },
];
