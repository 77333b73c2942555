import { DAY_MS } from '../kernel/clock.js';
import { refuse, type Text } from '../kernel/refusal.js';
import { codeDict, labelOf, type LicensePayload } from './format.js';

/**
 * Modes and quotas: what a license (or none) allows at a given moment, what
 * status warns of, and what changes code by code when another file takes its
 * place. Pure: the state comes in as arguments.
 */

export type Mode = 'licensed' | 'grace' | 'entry';

export interface ModeState {
  mode: Mode;
  /** Why: a stable code and a sentence in both languages. */
  reason: { code: string } & Text;
  expiresAt: string | null;
  graceEndsAt: string | null;
  graceDaysLeft: number | null;
}

/** What Entry mode allows: a handful of users, nothing else. */
const ENTRY_QUANTITIES: Readonly<Record<string, number>> = Object.freeze({ users: 5 });

export type CodeScope = 'server' | 'user';

export interface CodeLine {
  code: string;
  scope: CodeScope;
  label: { en: string; de: string };
  used: number;
  total: number;
}

export interface CodeChange {
  code: string;
  scope: CodeScope;
  label: { en: string; de: string };
  old: number;
  new: number;
  used: number;
  /** How many assignments must be released before this file can be activated. */
  toRemove: number;
}

export interface Quotas {
  quantities: Record<string, number>;
  perUser: Record<string, number>;
}

/** The license installed (possibly unusable) and the data found to be another appliance's, as the mode is judged from them. */
export interface InstalledLicense {
  payload: LicensePayload;
  invalid: ({ code: string } & Text) | null;
}
export interface ForeignData {
  dataSystemId: string;
  systemId: string;
}

/**
 * The server codes to list: those of the license, and every code a feature
 * counts (its usage provider reports it, even at 0). So after a fall to Entry
 * what exists is still counted, and a new file that does not name a code in
 * use is an over-use like any other — without licensing knowing the features.
 */
function serverCodes(used: Record<string, number>, perUser: Set<string>, ...licensed: Array<Record<string, number>>): Set<string> {
  return new Set([...Object.keys(ENTRY_QUANTITIES), ...licensed.flatMap((q) => Object.keys(q)), ...Object.keys(used).filter((c) => !perUser.has(c))]);
}

export function modeAt(installed: InstalledLicense | null, foreign: ForeignData | null, graceDays: number, now: Date): ModeState {
  const none = (code: string, en: string, de: string): ModeState => ({ mode: 'entry', reason: { code, en, de }, expiresAt: null, graceEndsAt: null, graceDaysLeft: null });
  const f = foreign;
  if (f)
    return none('MODE_FOREIGN_DATA', `This data comes from another appliance (system ${f.dataSystemId}); request a rehost license for ${f.systemId}.`, `Diese Daten stammen von einer anderen Anlage (System ${f.dataSystemId}); fordern Sie eine Rehost-Lizenz für ${f.systemId} an.`);
  if (!installed) return none('MODE_NO_LICENSE', 'No license is installed.', 'Es ist keine Lizenz installiert.');
  const p = installed.payload;
  if (installed.invalid)
    return none('MODE_LICENSE_INVALID', `The installed license ${p.licenseId} is not valid: ${installed.invalid.en}`, `Die installierte Lizenz ${p.licenseId} ist ungültig: ${installed.invalid.de}`);
  if (new Date(p.validFrom) > now)
    return none('MODE_NOT_YET_VALID', `License ${p.licenseId} is valid only from ${p.validFrom}.`, `Die Lizenz ${p.licenseId} gilt erst ab ${p.validFrom}.`);
  if (!p.expiresAt) return { mode: 'licensed', reason: { code: 'MODE_LICENSED', en: `License ${p.licenseId} is valid without expiry.`, de: `Die Lizenz ${p.licenseId} ist unbefristet gültig.` }, expiresAt: null, graceEndsAt: null, graceDaysLeft: null };
  const expires = new Date(p.expiresAt);
  const graceEnds = new Date(expires.getTime() + graceDays * DAY_MS);
  const base = { expiresAt: p.expiresAt, graceEndsAt: graceEnds.toISOString() };
  if (now < expires)
    return { mode: 'licensed', reason: { code: 'MODE_LICENSED', en: `License ${p.licenseId} is valid until ${p.expiresAt}.`, de: `Die Lizenz ${p.licenseId} ist gültig bis ${p.expiresAt}.` }, ...base, graceDaysLeft: null };
  if (now < graceEnds) {
    const left = Math.ceil((graceEnds.getTime() - now.getTime()) / DAY_MS);
    return { mode: 'grace', reason: { code: 'MODE_GRACE', en: `License ${p.licenseId} expired on ${p.expiresAt}; everything keeps working for ${left} more day(s).`, de: `Die Lizenz ${p.licenseId} ist am ${p.expiresAt} abgelaufen; alles funktioniert noch ${left} Tag(e).` }, ...base, graceDaysLeft: left };
  }
  return { mode: 'entry', reason: { code: 'MODE_LICENSE_EXPIRED', en: `License ${p.licenseId} expired on ${p.expiresAt} and its grace period ended on ${base.graceEndsAt}.`, de: `Die Lizenz ${p.licenseId} ist am ${p.expiresAt} abgelaufen, die Kulanzfrist endete am ${base.graceEndsAt}.` }, ...base, graceDaysLeft: 0 };
}

/** The quantities in force: the license's in Licensed and Grace, the Entry allowance otherwise (per-user codes kept, at 0). */
export function quotasIn(mode: Mode, payload: LicensePayload | null): Quotas {
  if (!payload || mode === 'entry') {
    const perUser = codeDict(Object.keys(payload?.perUser ?? {}).map((c): [string, number] => [c, 0]));
    return { quantities: codeDict(ENTRY_QUANTITIES), perUser };
  }
  return { quantities: codeDict(payload.quantities), perUser: codeDict(payload.perUser) };
}

/** Every code the quotas (or Entry) know, with used and total. */
export function codeLines(quotas: Quotas, used: Record<string, number>, payload: LicensePayload | null): CodeLine[] {
  const { quantities, perUser } = quotas;
  const line = (code: string, scope: CodeScope, total: number): CodeLine => ({ code, scope, label: labelOf(code, payload), used: used[code] ?? 0, total });
  const server = serverCodes(used, new Set(Object.keys(perUser)), quantities);
  return [...[...server].map((c) => line(c, 'server', quantities[c] ?? 0)), ...Object.keys(perUser).map((c) => line(c, 'user', perUser[c] ?? 0))];
}

/** Code by code: what `cur` grants, what `next` grants (null: Entry), what is used, what must go. */
export function codeChanges(cur: Quotas, next: LicensePayload | null, used: Record<string, number>, labels: LicensePayload | null): CodeChange[] {
  const nextQ = next ? next.quantities : codeDict(ENTRY_QUANTITIES);
  const nextU = next ? next.perUser : codeDict<number>();
  const out: CodeChange[] = [];
  const add = (code: string, scope: CodeScope, oldN: number, newN: number) => {
    const u = used[code] ?? 0;
    out.push({ code, scope, label: labelOf(code, next ?? labels), old: oldN, new: newN, used: u, toRemove: Math.max(0, u - newN) });
  };
  for (const c of serverCodes(used, new Set([...Object.keys(cur.perUser), ...Object.keys(nextU)]), cur.quantities, nextQ)) add(c, 'server', cur.quantities[c] ?? 0, nextQ[c] ?? 0);
  for (const c of new Set([...Object.keys(cur.perUser), ...Object.keys(nextU)])) add(c, 'user', cur.perUser[c] ?? 0, nextU[c] ?? 0);
  return out;
}

/** Judge a verified file's dates against now: usable now (or later, with `allowFuture`), or a refusal. */
export function checkDates(p: LicensePayload, now: Date, graceDays: number, allowFuture = false): void {
  if (!allowFuture && new Date(p.validFrom) > now) throw refuse('LIC_NOT_YET_VALID', { validFrom: p.validFrom });
  if (p.expiresAt) {
    const graceEnd = new Date(new Date(p.expiresAt).getTime() + graceDays * DAY_MS);
    if (graceEnd <= now) throw refuse('LIC_EXPIRED', { expiresAt: p.expiresAt, graceEndedAt: graceEnd.toISOString() });
  }
}

/** Something an admin must see on every status view (CLI, API, web UI banner, metrics). */
export interface Warning extends Text {
  code: string;
}

/** What status says loudly besides the mode. */
export function warningsFor(developmentTrust: 'checkout' | 'config' | null, foreign: ForeignData | null): Warning[] {
  const out: Warning[] = [];
  if (developmentTrust) {
    const why = developmentTrust === 'checkout' ? { en: 'pbxd runs from a source checkout', de: 'pbxd läuft aus einem Quellcode-Checkout' } : { en: 'license.trustDevelopmentRoot is true in the configuration', de: 'license.trustDevelopmentRoot ist in der Konfiguration true' };
    out.push({
      code: 'DEVELOPMENT_ROOT_TRUSTED',
      en: `This appliance trusts the public development license root (${why.en}): anyone can issue licenses it accepts. Never on a production appliance.`,
      de: `Diese Anlage vertraut der öffentlichen Entwicklungs-Lizenzwurzel (${why.de}): Jeder kann Lizenzen ausstellen, die sie annimmt. Niemals auf einer Produktivanlage.`,
    });
  }
  const f = foreign;
  if (f)
    out.push({
      code: 'FOREIGN_DATA',
      en: `This data comes from another appliance (system ${f.dataSystemId}); request a rehost license for ${f.systemId}. Nothing was deleted.`,
      de: `Diese Daten stammen von einer anderen Anlage (System ${f.dataSystemId}); fordern Sie eine Rehost-Lizenz für ${f.systemId} an. Es wurde nichts gelöscht.`,
    });
  return out;
}
