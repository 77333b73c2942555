import { readFileSync } from 'node:fs';
import { table, type Command } from '../command.js';
import { cliText, headings, need, pick } from '../messages.js';
import { listCommand, PAGE_USAGE } from '../paging.js';
import type { AuditEntry } from '../../core/audit.js';

export const adminCommands: Command[] = [
  {
    words: ['audit', 'verify'],
    usage: 'audit verify                 check that no audit row was edited or deleted',
    async run(api) {
      const r = await api.request<{ ok: boolean; rows: number; problem?: string; text?: { en: string; de: string } }>('GET', '/audit/verify');
      if (!r.ok) process.exitCode = 2;
      return { data: r, text: r.ok ? cliText('auditIntact', r.rows) : cliText('auditTampered', r.text ? pick(r.text) : (r.problem ?? '')) };
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
      return listCommand<AuditEntry>(api, a, { path: '/audit', listName: 'entries', headers, row: (e) => [e.id, e.at, e.actor, pick(e.text.action), pick(e.text.subject), pick(e.text.details)], noun: 'entries' }, q);
    },
  },
  {
    words: ['admin', 'list'],
    usage: 'admin list                   admin accounts',
    async run(api) {
      const r = await api.request<{ admins: Array<{ name: string; createdAt: string; disabled: boolean; lastLoginAt: string | null }> }>('GET', '/admins');
      return { data: r, text: table(headings('name', 'created', 'state', 'last login'), r.admins.map((x) => [x.name, x.createdAt, x.disabled ? cliText('adminDisabled') : cliText('adminActive'), x.lastLoginAt ?? cliText('never')])) };
    },
  },
  {
    words: ['admin', 'passwd'],
    usage: 'admin passwd NAME            set (or create) an admin password; reads it from standard input',
    async run(api, a) {
      const name = a.positional[0];
      if (!name) throw need(cliText('argAdmin'));
      const password = (process.env.PBXCTL_PASSWORD ?? readFileSync(0, 'utf8')).replace(/\r?\n$/, '');
      const current = process.env.PBXCTL_CURRENT_PASSWORD;
      await api.request('PUT', `/admins/${encodeURIComponent(name)}/password`, { password, ...(current ? { currentPassword: current } : {}) });
      return { data: { ok: true, admin: name }, text: cliText('passwordSet', name) };
    },
  },
  {
    words: ['token', 'create'],
    usage: 'token create --label L [--admin NAME] [--days N]   an API token for scripts (shown once; expires in N days, default 90)',
    async run(api, a) {
      const days = a.get('days');
      const r = await api.request<{ token: string; admin: string }>('POST', '/tokens', { label: a.get('label') ?? 'pbxctl', admin: a.get('admin') ?? 'admin', ...(days ? { expiresInDays: Number(days) } : {}) });
      return { data: r, text: r.token };
    },
  },
];
