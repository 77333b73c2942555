import { readFileSync } from 'node:fs';
import type { CodeChange, CodeLine, OveruseReport, PlanStep } from '../../licensing/licensing.js';
import type { ApplianceStatus } from '../../core/status.js';
import { table, type Command } from '../command.js';

function readLicense(path: string | undefined): Buffer {
  if (!path) throw new Error('give the license FILE (or - for standard input)');
  return readFileSync(path === '-' ? 0 : path);
}

/** A file valid from a later day is scheduled, not in force yet. */
function inForce(r: { payload: { licenseId: string }; activatesAt?: string }): string {
  return r.activatesAt ? `license ${r.payload.licenseId} is accepted and activates on ${r.activatesAt}` : `license ${r.payload.licenseId} is now in force`;
}

export function changesTable(changes: CodeChange[]): string {
  return table(
    ['code', 'old', 'new', 'used', 'to remove'],
    changes.map((c) => [c.code, c.old, c.new, c.used, c.toRemove || '']),
  );
}

/** What must go before a file can be activated, and the proposed plan. */
function overuseText(overused: OveruseReport[], plan: PlanStep[]): string {
  if (!overused.length) return '';
  return [
    '',
    'Activation needs removals first:',
    ...overused.map((o) => `  ${o.code}: ${o.used} in use, ${o.newTotal} licensed: remove ${o.toRemove} (holders: ${o.holders.slice(0, 12).map((h) => h.id).join(', ')}${o.holders.length > 12 ? ', …' : ''})`),
    '',
    'Proposed plan (least recently active first); apply it with the activation: pbxctl license activate --apply-plan',
    ...plan.map((p) => `  release ${p.code} from ${p.kind} ${p.id}`),
  ].join('\n');
}

interface Staged {
  stageId: number;
  changes: CodeChange[];
  overused: OveruseReport[];
  plan: PlanStep[];
}

export function statusText(s: ApplianceStatus): string {
  const line = (k: string, v: unknown) => `${(k + ':').padEnd(22)}${v ?? '-'}`;
  return [
    ...(s.warnings ?? []).map((w: { en: string }) => `WARNING: ${w.en}`),
    line('Mode', `${s.mode.toUpperCase()} — ${s.reason.en}`),
    line('System id', s.systemId),
    line('Edition', `${s.edition}${s.trial ? ' (trial)' : ''}${s.provisional ? ' (provisional)' : s.kind ? ' (activated)' : ''}`),
    line('License', s.licenseId),
    line('Operator', s.operator ? [s.operator.company, s.operator.street, [s.operator.postcode, s.operator.city].filter(Boolean).join(' ')].filter(Boolean).join(', ') : null),
    line('Valid from', s.validFrom),
    line('Expires', s.expiresAt ?? (s.licenseId ? 'never' : null)),
    ...(s.graceDaysLeft !== null && s.mode === 'grace' ? [line('Grace days left', s.graceDaysLeft)] : []),
    line('Update service until', s.updateServiceUntil),
    ...(s.scheduled ? [line('Scheduled', `${s.scheduled.licenseId} activates on ${s.scheduled.activatesAt}`)] : []),
    line('pbxd', `${s.build.version} (${s.build.buildDate})`),
    '',
    table(['code', 'name', 'used', 'total'], s.codes.map((c: CodeLine) => [c.code, c.label.en, c.used, c.total])),
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
      return { data: r, text: `staged as ${r.stageId}; activate with: pbxctl license activate ${r.stageId}\n\n${changesTable(r.changes)}${overuseText(r.overused, r.plan)}` };
    },
  },
  {
    words: ['license', 'diff'],
    usage: 'license diff                 what the staged license would change',
    async run(api) {
      const r = await api.request<Staged>('GET', '/license/staged');
      return { data: r, text: `staged license ${r.stageId}\n\n${changesTable(r.changes)}${overuseText(r.overused, r.plan)}` };
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
