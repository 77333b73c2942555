import { readFileSync } from 'node:fs';
import { table, type Command } from '../command.js';
import type { TokenView } from '../../core/admins.js';

/** Over HTTP (--url/--token) changes need the acting admin's current password; over the control socket none. */
const currentPassword = () => (process.env.PBXCTL_CURRENT_PASSWORD ? { currentPassword: process.env.PBXCTL_CURRENT_PASSWORD } : {});

function nameArg(words: string, positional: string[]): string {
  const name = positional[0];
  if (!name) throw new Error(`${words} needs the admin NAME`);
  return encodeURIComponent(name);
}

/** Admin accounts and API tokens beyond `admin list`, `admin passwd` and `token create` (commands/admin.ts). */
export const adminAccountCommands: Command[] = [
  {
    words: ['admin', 'add'],
    usage: 'admin add NAME               add an admin; reads its password from standard input (12+ characters)',
    async run(api, a) {
      const name = nameArg('admin add', a.positional);
      const password = (process.env.PBXCTL_PASSWORD ?? readFileSync(0, 'utf8')).replace(/\r?\n$/, '');
      await api.request('POST', '/admins', { name: decodeURIComponent(name), password, ...currentPassword() });
      return { data: { ok: true, admin: decodeURIComponent(name) }, text: `admin ${decodeURIComponent(name)} added` };
    },
  },
  ...(['disable', 'enable'] as const).map((verb): Command => ({
    words: ['admin', verb],
    usage: verb === 'disable' ? 'admin disable NAME           disable an admin (ends its sessions and tokens)' : 'admin enable NAME            enable a disabled admin again',
    async run(api, a) {
      const name = nameArg(`admin ${verb}`, a.positional);
      await api.request('PATCH', `/admins/${name}`, { disabled: verb === 'disable', ...currentPassword() });
      return { data: { ok: true }, text: `admin ${decodeURIComponent(name)} ${verb}d` };
    },
  })),
  {
    words: ['admin', 'delete'],
    usage: 'admin delete NAME            delete an admin (never the last active one)',
    async run(api, a) {
      const name = nameArg('admin delete', a.positional);
      await api.request('DELETE', `/admins/${name}`, currentPassword());
      return { data: { ok: true }, text: `admin ${decodeURIComponent(name)} deleted` };
    },
  },
  {
    words: ['token', 'list'],
    usage: 'token list [--admin NAME] [--limit N] [--before ID]   API tokens: label, expiry, last use',
    async run(api, a) {
      const q = new URLSearchParams();
      for (const k of ['admin', 'limit', 'before']) if (a.get(k)) q.set(k, a.get(k)!);
      const r = await api.request<{ tokens: TokenView[]; next: number | null }>('GET', `/tokens?${q}`);
      return { data: r, text: table(['id', 'admin', 'label', 'created', 'expires', 'last used'], r.tokens.map((t) => [t.id, t.admin, t.label, t.createdAt, t.expiresAt, t.lastUsedAt ?? 'never'])) };
    },
  },
  {
    words: ['token', 'revoke'],
    usage: 'token revoke ID              revoke an API token at once',
    async run(api, a) {
      const id = a.positional[0];
      if (!id || !/^\d+$/.test(id)) throw new Error('token revoke needs the token ID (see token list)');
      await api.request('DELETE', `/tokens/${id}`);
      return { data: { ok: true, id: Number(id) }, text: `token ${id} revoked` };
    },
  },
];
