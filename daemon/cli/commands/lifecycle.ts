import { writeFileSync } from 'node:fs';
import type { JobInfo } from '../../core/jobs.js';
import type { CheckResult } from '../../licensing/renewal.js';
import type { BackupFile } from '../../core/backups.js';
import type { CodeChange } from '../../licensing/licensing.js';
import { restoreBackup } from '../../core/backups.js';
import { isRefusal } from '../../kernel/refusal.js';
import { keyFingerprint, type SignedUsageReport } from '../../licensing/usage-report.js';
import { controlSocket, daemonConfig } from '../target.js';
import { hostFingerprint } from '../../core/system.js';
import { ApiError } from '../client.js';
import { table, type Command } from '../command.js';
import { cliText, headings, need, pick } from '../messages.js';
import { changesTable } from './license.js';

function jobsTable(jobs: JobInfo[]): string {
  return table(
    headings('job', 'schedule', 'enabled', 'next run', 'last run', 'ok', 'result'),
    jobs.map((j) => [j.name, j.schedule, cliText(j.enabled ? 'yes' : 'no'), j.nextRun ?? '-', j.lastRun?.startedAt ?? '-', j.lastRun ? cliText(j.lastRun.ok ? 'yes' : 'failedUpper') : '', j.running ? cliText('running') : j.lastRun ? pick(j.lastRun.text) : '']),
  );
}

function checkText(r: CheckResult): string {
  if (r.result === 'nothing new') return cliText('checkNothingNew');
  if (r.result === 'installed') return `${cliText('checkInstalled', r.licenseId!)}${r.activatesAt ? cliText('checkActivatesOn', r.activatesAt) : ''}`;
  return `${cliText('checkNeedsRemovals', r.licenseId!, r.stageId!)}\n${table(headings('code', 'used', 'new total', 'to remove'), (r.overused ?? []).map((c) => [c.code, c.used, c.newTotal, c.toRemove]))}\n${cliText('checkThenActivate', r.stageId!)}`;
}

const listJobs: Command = {
  words: ['jobs'],
  usage: 'jobs [list]                  scheduled jobs: next run, last run and result',
  async run(api) {
    const r = await api.request<{ jobs: JobInfo[] }>('GET', '/jobs');
    return { data: r, text: jobsTable(r.jobs) };
  },
};

/**
 * Restore works on the files directly, without the daemon: it must run while
 * pbxd is stopped, so it reads the data folder from the daemon's config.
 */
const restore: Command = {
  words: ['backup', 'restore'],
  usage: 'backup restore FILE [--config F] [--data-dir D] [--foreign]   put a backup in place (pbxd must be stopped); --foreign: one made on another appliance',
  booleanFlags: ['foreign'],
  async run(_api, a) {
    const file = a.positional[0];
    if (!file) throw need(cliText('argBackup'));
    const config = daemonConfig(a);
    const dataDir = a.get('data-dir') ?? config.dataDir;
    const socket = controlSocket(a);
    try {
      const r = await restoreBackup({ dataDir, socket, file, fingerprint: hostFingerprint(config.host), foreign: a.has('foreign') });
      const foreign = r.foreignOrigin ? `\n${cliText('restoredForeign', r.foreignOrigin.dataSystemId, r.foreignOrigin.systemId)}` : '';
      return { data: r, text: `${cliText('restored', r.restored, dataDir)}${r.previous ? `\n${cliText('restoredPrevious', r.previous)}` : ''}${foreign}\n${cliText('restoredStart')}` };
    } catch (e) {
      // Same envelope as an API refusal, so pbxctl prints it the same way.
      if (isRefusal(e)) throw new ApiError(e.status, { error: e.toJSON() });
      throw e;
    }
  },
};

export const lifecycleCommands: Command[] = [
  listJobs,
  { ...listJobs, words: ['jobs', 'list'], usage: 'jobs list                    the same as pbxctl jobs' },
  {
    words: ['jobs', 'run'],
    usage: 'jobs run NAME                run a job now and show its result',
    async run(api, a) {
      const name = a.positional[0];
      if (!name) throw need(cliText('argJob'));
      const j = await api.request<JobInfo>('POST', `/jobs/${encodeURIComponent(name)}/run`);
      if (!j.lastRun?.ok) process.exitCode = 2;
      return { data: j, text: cliText('jobRan', j.name, Boolean(j.lastRun?.ok), j.lastRun ? pick(j.lastRun.text) : '') };
    },
  },
  {
    words: ['license', 'check'],
    usage: 'license check                ask the activation server for a newer license now',
    async run(api) {
      const r = await api.request<CheckResult>('POST', '/license/check');
      return { data: r, text: checkText(r) };
    },
  },
  {
    words: ['license', 'request'],
    usage: 'license request KEY          exchange the 10-digit request key for a provisional license',
    async run(api, a) {
      const key = a.positional.join('');
      if (!key) throw need(cliText('argRequestKey'));
      const r = await api.request<{ payload: { licenseId: string; expiresAt: string | null; kind: string }; changes: CodeChange[] }>('POST', '/license/request', { requestKey: key });
      return { data: r, text: `${cliText('provisionalInForce', r.payload.kind, r.payload.licenseId, String(r.payload.expiresAt))}\n\n${changesTable(r.changes)}` };
    },
  },
  {
    words: ['usage', 'report'],
    usage: 'usage report [--month YYYY-MM] [--out FILE]   signed usage report for the vendor',
    async run(api, a) {
      const q = a.get('month') ? `?month=${encodeURIComponent(a.get('month')!)}` : '';
      const r = await api.request<SignedUsageReport>('GET', `/usage/report${q}`);
      const text = JSON.stringify(r, null, 2) + '\n';
      const out = a.get('out');
      if (out) writeFileSync(out, text);
      const summary = r.report.months.map((m) => `${m.month}: ${Object.entries(m.peaks).map(([c, n]) => `${c} ${n}`).join(', ')}`).join('\n');
      return { data: r, text: out ? `${cliText('usageWritten', r.report.systemId, out, keyFingerprint(r.report.publicKey))}\n${summary}` : text.trimEnd() };
    },
  },
  {
    words: ['backup', 'list'],
    usage: 'backup list                  database backups, newest first',
    async run(api) {
      const r = await api.request<{ dir: string; backups: BackupFile[] }>('GET', '/backups');
      return { data: r, text: `${r.dir}\n${table(headings('file', 'bytes', 'created'), r.backups.map((b) => [b.name, b.bytes, b.createdAt]))}` };
    },
  },
  {
    words: ['backup', 'now'],
    usage: 'backup now                   back up the database now',
    async run(api) {
      const r = await api.request<{ backup: BackupFile }>('POST', '/backups');
      return { data: r, text: cliText('backupWritten', r.backup.path, r.backup.bytes) };
    },
  },
  restore,
];
