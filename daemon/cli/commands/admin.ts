import { readFileSync } from 'node:fs';
import { table, type Command } from '../command.js';
import { listCommand, PAGE_USAGE } from '../paging.js';
import type { AuditEntry } from '../../core/audit.js';

export const adminCommands: Command[] = [
  {
    words: ['audit', 'verify'],
    usage: 'audit verify                 check that no audit row was edited or deleted',
    async run(api) {
      const r = await api.request<{ ok: boolean; rows: number; problem?: string }>('GET', '/audit/verify');
      if (!r.ok) process.exitCode = 2;
      return { data: r, text: r.ok ? `audit log intact (${r.rows} rows)` : `AUDIT LOG TAMPERED: ${r.problem}` };
    },
  },
  {
    words: ['audit'],
    usage: `audit [--action PREFIX] [--actor X] [--q PREFIX] [--before ID] ${PAGE_USAGE}   the audit log, newest first`,
    booleanFlags: ['all'],
    async run(api, a) {
      const q = new URLSearchParams();
      for (const k of ['action', 'actor', 'q', 'before']) if (a.get(k)) q.set(k, a.get(k)!);
      const headers = ['id', 'at', 'actor', 'action', 'subject', 'details'];
      return listCommand<AuditEntry>(api, a, { path: '/audit', listName: 'entries', headers, row: (e) => [e.id, e.at, e.actor, e.action, e.subject, JSON.stringify(e.details)], noun: 'entries' }, q);
    },
  },
  {
    words: ['admin', 'list'],
    usage: 'admin list                   admin accounts',
    async run(api) {
      const r = await api.request<{ admins: Array<{ name: string; createdAt: string }> }>('GET', '/admins');
      return { data: r, text: table(['name', 'created'], r.admins.map((x) => [x.name, x.createdAt])) };
    },
  },
  {
    words: ['admin', 'passwd'],
    usage: 'admin passwd NAME            set (or create) an admin password; reads it from standard input',
    async run(api, a) {
      const name = a.positional[0];
      if (!name) throw new Error('admin passwd needs the admin NAME');
      const password = (process.env.PBXCTL_PASSWORD ?? readFileSync(0, 'utf8')).replace(/\r?\n$/, '');
      await api.request('PUT', `/admins/${encodeURIComponent(name)}/password`, { password });
      return { data: { ok: true, admin: name }, text: `password of ${name} set; its sessions and tokens were ended` };
    },
  },
  {
    words: ['token', 'create'],
    usage: 'token create --label L [--admin NAME]   an API token for scripts (shown once)',
    async run(api, a) {
      const r = await api.request<{ token: string; admin: string }>('POST', '/tokens', { label: a.get('label') ?? 'pbxctl', admin: a.get('admin') ?? 'admin' });
      return { data: r, text: r.token };
    },
  },
];
