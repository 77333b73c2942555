import { table, type Command } from '../command.js';
import { cliText, headings, need } from '../messages.js';
import { listCommand, PAGE_USAGE } from '../paging.js';
import type { ClientToken as TokenRow } from '../../core/client-credentials.js';

interface SessionRow {
  id: string;
  userName: string;
  kind: string;
  code: string;
  since: string;
  from: string;
  via: string;
}

export const sessionCommands: Command[] = [
  {
    words: ['sessions', 'list'],
    usage: `sessions list [--user U] [--kind K] ${PAGE_USAGE}   live client sessions (K: desktop, app, tapi, console)`,
    booleanFlags: ['all'],
    async run(api, a) {
      const q = new URLSearchParams();
      for (const k of ['user', 'kind']) if (a.get(k)) q.set(k, a.get(k)!);
      const headers = ['id', 'user', 'kind', 'since', 'from'];
      return listCommand<SessionRow>(api, a, { path: '/sessions', listName: 'sessions', headers, row: (s) => [s.id, s.userName, s.kind, s.since, s.from], noun: 'sessions' }, q);
    },
  },
  {
    words: ['sessions', 'end'],
    usage: 'sessions end ID              end a client session (the client is told it was ended by an admin)',
    async run(api, a) {
      const id = a.positional[0];
      if (!id) throw need(cliText('argSession'));
      const r = await api.request('DELETE', `/sessions/${encodeURIComponent(id)}`);
      return { data: r, text: cliText('sessionEnded', id) };
    },
  },
  {
    words: ['users', 'token'],
    usage: 'users token USER [--label L]   issue a client token for USER (shown once)',
    async run(api, a) {
      const user = a.positional[0];
      if (!user) throw need(cliText('argUser'));
      const r = await api.request<TokenRow & { token: string }>('POST', `/users/${encodeURIComponent(user)}/client-tokens`, { label: a.get('label') ?? '' });
      return { data: r, text: r.token };
    },
  },
  {
    words: ['users', 'tokens'],
    usage: "users tokens USER            USER's client tokens (without the secrets)",
    async run(api, a) {
      const user = a.positional[0];
      if (!user) throw need(cliText('argUser'));
      const r = await api.request<{ tokens: TokenRow[] }>('GET', `/users/${encodeURIComponent(user)}/client-tokens`);
      return { data: r, text: table(headings('id', 'label', 'created', 'by', 'last used'), r.tokens.map((t) => [t.id, t.label, t.createdAt, t.createdBy, t.lastUsedAt])) };
    },
  },
  {
    words: ['users', 'token-revoke'],
    usage: 'users token-revoke ID        revoke a client token; its sessions end',
    async run(api, a) {
      const id = a.positional[0];
      if (!id) throw need(cliText('argToken'));
      const r = await api.request('DELETE', `/client-tokens/${encodeURIComponent(id)}`);
      return { data: r, text: cliText('tokenRevoked', id) };
    },
  },
];
