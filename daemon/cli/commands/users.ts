import { readFileSync } from 'node:fs';
import { table, type Command } from '../command.js';
import { cliText, headings, need, stateWord } from '../messages.js';
import type { User } from '../../core/users.js';
import { listCommand, PAGE_USAGE } from '../paging.js';

const USER_HEADERS = ['user', 'first name', 'last name', 'tenant', 'ext', 'status'];
const userRow = (u: User) => [u.userName, u.firstName, u.lastName, u.tenant, u.extension, u.builtin ? cliText('builtIn') : stateWord(u.status)];

async function assign(api: Parameters<Command['run']>[0], positional: string[], assigned: boolean) {
  const [userName, ...codes] = positional;
  if (!userName || codes.length === 0) throw need(cliText('argUserAndCodes'));
  const r = await api.request<{ applied: number; codes: Array<{ code: string; used: number; total: number }> }>('POST', '/user-licenses', { changes: codes.map((code) => ({ userName, code, assigned })) });
  return { data: r, text: `${cliText('changesApplied', r.applied)}\n\n${table(headings('code', 'used', 'total'), r.codes.map((c) => [c.code, c.used, c.total]))}` };
}

export const userCommands: Command[] = [
  {
    words: ['users', 'list'],
    usage: `users list [--q PREFIX] [--pending] [--tenant T] ${PAGE_USAGE}   users, a page (or --all) at a time`,
    booleanFlags: ['pending', 'all'],
    async run(api, a) {
      const q = new URLSearchParams();
      if (a.get('q')) q.set('q', a.get('q')!);
      if (a.has('pending')) q.set('status', 'pending');
      if (a.get('tenant')) q.set('tenant', a.get('tenant')!);
      return listCommand<User>(api, a, { path: '/users', listName: 'users', headers: USER_HEADERS, row: userRow, noun: 'users' }, q);
    },
  },
  {
    words: ['users', 'add'],
    usage: 'users add USER [--first F] [--last L] [--tenant T] [--extension N]   register a user (takes a seat)',
    async run(api, a) {
      const userName = a.positional[0];
      if (!userName) throw need(cliText('argUser'));
      const u = await api.request<User>('POST', '/users', { userName, firstName: a.get('first'), lastName: a.get('last'), tenant: a.get('tenant'), extension: a.get('extension') });
      return { data: u, text: cliText('registered', u.userName) };
    },
  },
  {
    words: ['users', 'delete'],
    usage: 'users delete USER            delete a user (frees its seat and licenses)',
    async run(api, a) {
      const userName = a.positional[0];
      if (!userName) throw need(cliText('argUser'));
      await api.request('DELETE', `/users/${encodeURIComponent(userName)}`);
      return { data: { ok: true, userName }, text: cliText('deleted', userName) };
    },
  },
  {
    words: ['users', 'import'],
    usage: 'users import FILE            directory sync from CSV or JSON; beyond free seats users wait as pending',
    async run(api, a) {
      const file = a.positional[0];
      if (!file) throw need(cliText('argFile'));
      const text = readFileSync(file === '-' ? 0 : file, 'utf8');
      const isJson = /^\s*[[{]/.test(text);
      const r = await api.request<{ created: string[]; pending: string[]; updated: string[]; unchanged: number; skipped: unknown[] }>('POST', '/users/import', text, isJson ? 'application/json' : 'text/csv');
      return { data: r, text: cliText('imported', r.created.length, r.pending.length, r.updated.length, r.unchanged, r.skipped.length) };
    },
  },
  {
    words: ['users', 'approve'],
    usage: 'users approve USER... | --all   approve pending users (a list all or none; --all as many as fit)',
    booleanFlags: ['all'],
    async run(api, a) {
      const r = await api.request<{ approved: string[]; stillPending: number }>('POST', '/users/approve', a.has('all') ? { all: true } : { userNames: a.positional });
      return { data: r, text: cliText('approved', r.approved.length, r.approved.slice(0, 20).join(', '), r.stillPending) };
    },
  },
  {
    words: ['tenants', 'list'],
    usage: 'tenants list                 tenants and their seat pools',
    async run(api) {
      const r = await api.request<{ tenants: Array<{ name: string; seats: number; used: number; pending: number }>; total: number; pooled: number }>('GET', '/tenants');
      return { data: r, text: `${table(headings('tenant', 'seats', 'used', 'pending'), r.tenants.map((t) => [t.name, t.seats, t.used, t.pending]))}\n\n${cliText('seatsInPools', r.pooled, r.total)}` };
    },
  },
  {
    words: ['tenants', 'set'],
    usage: 'tenants set TENANT SEATS     create or resize a tenant seat pool',
    async run(api, a) {
      const [name, seats] = a.positional;
      if (!name || seats === undefined) throw need(cliText('argTenantSeats'));
      const r = await api.request('PUT', `/tenants/${encodeURIComponent(name)}`, { seats: Number(seats) });
      return { data: r, text: cliText('poolSet', name, seats) };
    },
  },
  {
    words: ['licenses', 'list'],
    usage: 'licenses list [--q TEXT]     the per-user license table',
    async run(api, a) {
      const r = await api.request<{ codes: Array<{ code: string; used: number; total: number }>; users: Array<{ userName: string; firstName: string; lastName: string; licenses: Record<string, boolean> }> }>('GET', `/user-licenses?${new URLSearchParams(a.get('q') ? { q: a.get('q')! } : {})}`);
      const headers = [...headings('user', 'first name', 'last name'), ...r.codes.map((c) => `${c.code} (${c.used}/${c.total})`)];
      return { data: r, text: table(headers, r.users.map((u) => [u.userName, u.firstName, u.lastName, ...r.codes.map((c) => (u.licenses[c.code] ? 'x' : ''))])) };
    },
  },
  { words: ['licenses', 'assign'], usage: 'licenses assign USER CODE...   give a user per-user licenses', run: (api, a) => assign(api, a.positional, true) },
  { words: ['licenses', 'unassign'], usage: 'licenses unassign USER CODE...   take per-user licenses from a user', run: (api, a) => assign(api, a.positional, false) },
];
