import { defineRefusals, entry, fixed, refuse as refuseCommon } from '../../kernel/refusal.js';

/** The users room's refusals, types and input checks, shared by its modules (no SQL here). */
export const refuse = defineRefusals({
  SEATS_EXHAUSTED: entry<{ used: number; total: number }>(409,
    (d) => ({ en: `${d.used} of ${d.total} user seats in use.`, de: `${d.used} von ${d.total} Benutzerlizenzen belegt.` }),
    fixed({ en: 'Delete a user, or install a license with more users.', de: 'Löschen Sie einen Benutzer oder installieren Sie eine Lizenz mit mehr Benutzern.' })),
  TENANT_SEATS_EXHAUSTED: entry<{ tenant: string; used: number; seats: number }>(409,
    (d) => ({ en: `${d.used} of ${d.seats} seats of "${d.tenant}" in use.`, de: `${d.used} von ${d.seats} Plätzen von "${d.tenant}" belegt.` }),
    (d) => ({ en: `Raise the seat pool of "${d.tenant}", or delete one of its users.`, de: `Erhöhen Sie den Platz-Pool von "${d.tenant}" oder löschen Sie einen seiner Benutzer.` })),
  SEATS_APPROVAL_EXCEEDS: entry<{ requested: number; fit: number }>(409,
    (d) => ({ en: `${d.requested} users cannot all be approved: only ${d.fit} fit into the free seats. None was approved.`, de: `${d.requested} Benutzer können nicht alle freigegeben werden: nur ${d.fit} passen in die freien Plätze. Keiner wurde freigegeben.` }),
    fixed({ en: 'Approve fewer users (or all that fit), or free seats first.', de: 'Geben Sie weniger Benutzer frei (oder alle, die passen), oder schaffen Sie zuerst Platz.' })),
  USER_BUILTIN: entry<{ userName: string }>(409,
    (d) => ({ en: `"${d.userName}" is the appliance's built-in account and cannot be deleted or renamed.`, de: `"${d.userName}" ist das eingebaute Konto der Anlage und kann nicht gelöscht oder umbenannt werden.` }),
    fixed({ en: 'Leave the built-in account as it is.', de: 'Lassen Sie das eingebaute Konto unverändert.' })),
  USER_PENDING: entry<{ userNames: string[] }>(409,
    (d) => ({ en: `Pending users cannot hold licenses: ${d.userNames.slice(0, 10).join(', ')}.`, de: `Nicht freigegebene Benutzer können keine Lizenzen erhalten: ${d.userNames.slice(0, 10).join(', ')}.` }),
    fixed({ en: 'Approve the users first.', de: 'Geben Sie die Benutzer zuerst frei.' })),
  EXTENSION_TAKEN: entry<{ extension: string; userName: string }>(409,
    (d) => ({ en: `Extension ${d.extension} belongs to "${d.userName}".`, de: `Die Durchwahl ${d.extension} gehört "${d.userName}".` }),
    fixed({ en: 'Choose another extension.', de: 'Wählen Sie eine andere Durchwahl.' })),
  USERLIC_UNKNOWN_CODE: entry<{ code: string; known: string[] }>(400,
    (d) => ({ en: `The license has no per-user code "${d.code}" (it has: ${d.known.join(', ') || 'none'}).`, de: `Die Lizenz hat keinen benutzerbezogenen Code "${d.code}" (vorhanden: ${d.known.join(', ') || 'keiner'}).` }),
    fixed({ en: 'Use a code of the license in force.', de: 'Verwenden Sie einen Code der gültigen Lizenz.' })),
  USERLIC_QUOTA_EXCEEDED: entry<{ codes: Array<{ code: string; total: number; wouldUse: number; exceedsBy: number }> }>(409,
    (d) => ({
      en: `Not saved: ${d.codes.map((c) => `${c.code} would use ${c.wouldUse} of ${c.total} (${c.exceedsBy} too many)`).join('; ')}. Nothing was changed.`,
      de: `Nicht gespeichert: ${d.codes.map((c) => `${c.code} würde ${c.wouldUse} von ${c.total} belegen (${c.exceedsBy} zu viel)`).join('; ')}. Es wurde nichts geändert.`,
    }),
    fixed({ en: 'Untick as many boxes as shown, or book more licenses.', de: 'Entfernen Sie so viele Haken wie angegeben oder buchen Sie weitere Lizenzen.' })),
  POOL_BELOW_USERS: entry<{ tenant: string; users: number; seats: number }>(409,
    (d) => ({ en: `"${d.tenant}" has ${d.users} users; its pool cannot be set to ${d.seats}.`, de: `"${d.tenant}" hat ${d.users} Benutzer; sein Pool kann nicht auf ${d.seats} gesetzt werden.` }),
    fixed({ en: 'Delete users of the tenant first, or choose a larger pool.', de: 'Löschen Sie zuerst Benutzer des Mandanten oder wählen Sie einen größeren Pool.' })),
  POOLS_EXCEED_LICENSE: entry<{ sum: number; total: number }>(409,
    (d) => ({ en: `The pools would hold ${d.sum} seats; the license has ${d.total}.`, de: `Die Pools würden ${d.sum} Plätze umfassen; die Lizenz hat ${d.total}.` }),
    fixed({ en: 'Shrink other pools first, or install a license with more users.', de: 'Verkleinern Sie zuerst andere Pools oder installieren Sie eine Lizenz mit mehr Benutzern.' })),
  TENANT_NOT_EMPTY: entry<{ tenant: string; users: number }>(409,
    (d) => ({ en: `"${d.tenant}" still has ${d.users} users.`, de: `"${d.tenant}" hat noch ${d.users} Benutzer.` }),
    fixed({ en: 'Move or delete its users first.', de: 'Verschieben oder löschen Sie zuerst seine Benutzer.' })),
});

export const SUPERVISOR = 'supervisor';
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const EXTENSION = /^[0-9*#+]{1,20}$/;

export interface User {
  userName: string;
  firstName: string;
  lastName: string;
  tenant: string | null;
  extension: string | null;
  status: 'active' | 'pending';
  builtin: boolean;
  createdAt: string;
  lastActiveAt: string | null;
}

export interface UserInput {
  userName: string;
  firstName?: string;
  lastName?: string;
  tenant?: string | null;
  extension?: string | null;
}

export interface LicenseChange {
  userName: string;
  code: string;
  assigned: boolean;
}

/** SQLite allows a limited number of bound parameters per statement; big batches go in chunks. */
export function chunks<T>(items: T[], size = 400): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Events carry names for the UI; a 10,000-user import carries the count and the first names. */
export const EVENT_NAMES = 500;

export function validateUser(u: UserInput): UserInput {
  if (typeof u.userName !== 'string' || !USER_NAME.test(u.userName))
    throw refuseCommon('REQ_INVALID', { field: 'userName', problem: 'letters, digits, . _ @ - (1–64), starting with a letter or digit' });
  for (const k of ['firstName', 'lastName'] as const) {
    const v = u[k];
    if (v !== undefined && (typeof v !== 'string' || v.length > 100 || /[\u0000-\u001f]/.test(v))) throw refuseCommon('REQ_INVALID', { field: k, problem: 'text of at most 100 characters' });
  }
  if (u.tenant !== undefined && u.tenant !== null && (typeof u.tenant !== 'string' || u.tenant.trim() === '' || u.tenant.length > 100))
    throw refuseCommon('REQ_INVALID', { field: 'tenant', problem: 'a tenant name of at most 100 characters' });
  if (u.extension !== undefined && u.extension !== null && u.extension !== '' && (typeof u.extension !== 'string' || !EXTENSION.test(u.extension)))
    throw refuseCommon('REQ_INVALID', { field: 'extension', problem: 'digits, * # + (1–20)' });
  return { ...u, extension: u.extension === '' ? null : u.extension };
}

/** A user as a removal plan lists it: least recently active first. */
export function holderOf(r: { user_name: string; first_name: string; last_name: string; last_active_at: string | null }) {
  return { kind: 'user' as const, id: r.user_name, name: `${r.first_name} ${r.last_name}`.trim() || r.user_name, lastActive: r.last_active_at };
}

export function refuseSeats(used: number, total: number) {
  return refuse('SEATS_EXHAUSTED', { used, total });
}

