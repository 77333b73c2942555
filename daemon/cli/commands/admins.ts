import { readFileSync } from 'node:fs';
import { table, type Command } from '../command.js';
import type { TokenView } from '../../core/admins.js';
import { cliText, headings, need } from '../messages.js';

/** Over HTTP (--url/--token) changes need the acting admin's current password; over the control socket none. */
const currentPassword = () => (process.env.PBXCTL_CURRENT_PASSWORD ? { currentPassword: process.env.PBXCTL_CURRENT_PASSWORD } : {});

function nameArg(positional: string[]): string {
  const name = positional[0];
  if (!name) throw need(cliText('argAdmin'));
  return name;
}

/** Admin accounts and API tokens beyond `admin list`, `admin passwd` and `token create` (commands/admin.ts). */
export const adminAccountCommands: Command[] = [
  {
    words: ['admin', 'add'],
    usage: 'admin add NAME               add an admin; reads its password from standard input (12+ characters)',
    async run(api, a) {
      const name = nameArg(a.positional);
      const password = (process.env.PBXCTL_PASSWORD ?? readFileSync(0, 'utf8')).replace(/\r?\n$/, '');
      await api.request('POST', '/admins', { name, password, ...currentPassword() });
      return { data: { ok: true, admin: name }, text: cliText('adminAdded', name) };
    },
  },
  ...(['disable', 'enable'] as const).map((verb): Command => ({
    words: ['admin', verb],
    usage: verb === 'disable' ? 'admin disable NAME           disable an admin (ends its sessions and tokens)' : 'admin enable NAME            enable a disabled admin again',
    async run(api, a) {
      const name = nameArg(a.positional);
      await api.request('PATCH', `/admins/${encodeURIComponent(name)}`, { disabled: verb === 'disable', ...currentPassword() });
      return { data: { ok: true }, text: cliText(verb === 'disable' ? 'adminDisabledDone' : 'adminEnabledDone', name) };
    },
  })),
  {
    words: ['admin', 'delete'],
    usage: 'admin delete NAME            delete an admin (never the last active one)',
    async run(api, a) {
      const name = nameArg(a.positional);
      await api.request('DELETE', `/admins/${encodeURIComponent(name)}`, currentPassword());
      return { data: { ok: true }, text: cliText('adminDeleted', name) };
    },
  },
  {
    words: ['token', 'list'],
    usage: 'token list [--admin NAME] [--limit N] [--before ID]   API tokens: label, expiry, last use',
    async run(api, a) {
      const q = new URLSearchParams();
      for (const k of ['admin', 'limit', 'before']) if (a.get(k)) q.set(k, a.get(k)!);
      const r = await api.request<{ tokens: TokenView[]; next: number | null }>('GET', `/tokens?${q}`);
      return { data: r, text: table(headings('id', 'admin', 'label', 'created', 'expires', 'last used'), r.tokens.map((t) => [t.id, t.admin, t.label, t.createdAt, t.expiresAt, t.lastUsedAt ?? cliText('never')])) };
    },
  },
  {
    words: ['token', 'revoke'],
    usage: 'token revoke ID              revoke an API token at once',
    async run(api, a) {
      const id = a.positional[0];
      if (!id || !/^\d+$/.test(id)) throw need(cliText('argTokenId'));
      await api.request('DELETE', `/tokens/${id}`);
      return { data: { ok: true, id: Number(id) }, text: cliText('apiTokenRevoked', id) };
    },
  },
];
