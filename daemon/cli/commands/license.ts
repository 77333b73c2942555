import { readFileSync } from 'node:fs';
import type { CodeChange, CodeLine, OveruseReport, PlanStep } from '../../licensing/licensing.js';
import type { ApplianceStatus } from '../../core/status.js';
import { table, type Command } from '../command.js';
import { cliText, headings, need, pick } from '../messages.js';

function readLicense(path: string | undefined): Buffer {
  if (!path) throw need(cliText('argFile'));
  return readFileSync(path === '-' ? 0 : path);
}

/** A file valid from a later day is scheduled, not in force yet. */
function inForce(r: { payload: { licenseId: string }; activatesAt?: string }): string {
  return r.activatesAt ? cliText('licenseScheduled', r.payload.licenseId, r.activatesAt) : cliText('licenseInForce', r.payload.licenseId);
}

export function changesTable(changes: CodeChange[]): string {
  return table(
    headings('code', 'old', 'new', 'used', 'to remove'),
    changes.map((c) => [c.code, c.old, c.new, c.used, c.toRemove || '']),
  );
}

/** What must go before a file can be activated, and the proposed plan. */
function overuseText(overused: OveruseReport[], plan: PlanStep[]): string {
  if (!overused.length) return '';
  return [
    '',
    cliText('needsRemovals'),
    ...overused.map((o) => `  ${cliText('overusedLine', o.code, o.used, o.newTotal, o.toRemove, o.holders.slice(0, 12).map((h) => h.id).join(', ') + (o.holders.length > 12 ? ', …' : ''))}`),
    '',
    cliText('proposedPlan'),
    ...plan.map((p) => `  ${cliText('planStep', p.code, p.kind, p.id)}`),
  ].join('\n');
}

interface Staged {
  stageId: number;
  changes: CodeChange[];
  overused: OveruseReport[];
  plan: PlanStep[];
}

function statusText(s: ApplianceStatus): string {
  const width = Math.max(...(['statusUpdateService', 'statusGraceLeft'] as const).map((k) => cliText(k).length)) + 2;
  const line = (k: string, v: unknown) => `${(k + ':').padEnd(width)}${v ?? '-'}`;
  return [
    ...(s.warnings ?? []).map((w: { en: string; de: string }) => cliText('warning', pick(w))),
    line(cliText('statusMode'), `${cliText(s.mode === 'licensed' ? 'modeLicensed' : s.mode === 'grace' ? 'modeGrace' : 'modeEntry')} — ${pick(s.reason)}`),
    line(cliText('statusSystemId'), s.systemId),
    line(cliText('statusEdition'), `${s.edition}${s.trial ? ` (${cliText('trial')})` : ''}${s.provisional ? ` (${cliText('provisional')})` : s.kind ? ` (${cliText('activated')})` : ''}`),
    line(cliText('statusLicense'), s.licenseId),
    line(cliText('statusOperator'), s.operator ? [s.operator.company, s.operator.street, [s.operator.postcode, s.operator.city].filter(Boolean).join(' ')].filter(Boolean).join(', ') : null),
    line(cliText('statusValidFrom'), s.validFrom),
    line(cliText('statusExpires'), s.expiresAt ?? (s.licenseId ? cliText('never') : null)),
    ...(s.graceDaysLeft !== null && s.mode === 'grace' ? [line(cliText('statusGraceLeft'), s.graceDaysLeft)] : []),
    line(cliText('statusUpdateService'), s.updateServiceUntil),
    ...(s.scheduled ? [line(cliText('statusScheduled'), cliText('activatesOn', s.scheduled.licenseId, s.scheduled.activatesAt))] : []),
    line('pbxd', `${s.build.version} (${s.build.buildDate})`),
    '',
    table(headings('code', 'name', 'used', 'total'), s.codes.map((c: CodeLine) => [c.code, pick(c.label), c.used, c.total])),
  ].join('\n');
}

export const licenseCommands: Command[] = [
  {
    words: ['status'],
    usage: 'status                       mode and reason, system id, every code used/total',
    async run(api) {
      const s = await api.request<ApplianceStatus>('GET', '/status');
      return { data: s, text: statusText(s) };
    },
  },
  {
    words: ['license', 'stage'],
    usage: 'license stage FILE           verify a license file and show what would change',
    async run(api, a) {
      const r = await api.request<Staged>('POST', '/license/stage', readLicense(a.positional[0]), 'text/plain');
      return { data: r, text: `${cliText('staged', r.stageId)}\n\n${changesTable(r.changes)}${overuseText(r.overused, r.plan)}` };
    },
  },
  {
    words: ['license', 'diff'],
    usage: 'license diff                 what the staged license would change',
    async run(api) {
      const r = await api.request<Staged>('GET', '/license/staged');
      return { data: r, text: `${cliText('stagedLicense', r.stageId)}\n\n${changesTable(r.changes)}${overuseText(r.overused, r.plan)}` };
    },
  },
  {
    words: ['license', 'activate'],
    usage: 'license activate [STAGE_ID] [--apply-plan | --plan FILE]   make the staged license the one in force (with a removal plan)',
    booleanFlags: ['apply-plan'],
    async run(api, a) {
      const staged = await api.request<Staged>('GET', `/license/staged${a.positional[0] ? `?stageId=${Number(a.positional[0])}` : ''}`);
      const plan: PlanStep[] = a.get('plan') ? JSON.parse(readFileSync(a.get('plan')!, 'utf8')) : a.has('apply-plan') ? staged.plan : [];
      const r = await api.request<{ payload: { licenseId: string }; changes: CodeChange[]; activatesAt?: string }>('POST', '/license/activate', { stageId: staged.stageId, plan });
      return { data: r, text: `${inForce(r)}

${changesTable(r.changes)}` };
    },
  },
  {
    words: ['license', 'install'],
    usage: 'license install FILE         stage and activate a license file',
    async run(api, a) {
      const r = await api.request<{ payload: { licenseId: string }; changes: CodeChange[]; activatesAt?: string }>('POST', '/license', readLicense(a.positional[0]), 'text/plain');
      return { data: r, text: `${inForce(r)}\n\n${changesTable(r.changes)}` };
    },
  },
];
