import { defineRefusals, entry, fixed, type Text } from '../../kernel/refusal.js';
import type { Message, Values } from '../../kernel/messages.js';
import type { Outcome, OutcomeCode } from '../provisioning-outcomes.js';

/**
 * What a device is to the core: its record, views, license states and
 * refusals. Shared by the parts of daemon/core/devices/ and their importers.
 */

/**
 * The device families the provisioning server recognises and the support
 * license each takes. The vendor list (provisioning/vendors) owns the rule;
 * the composition root hands it in, so the core imports nothing above it.
 */
export interface DeviceFamilies {
  /** The family names a device may be recorded with, in list order. */
  readonly names: readonly string[];
  /** The support license a family's phones take; none for families that take none (DECT bases). */
  readonly licenseCode: Readonly<Partial<Record<string, string>>>;
}

export const LICENSE_STATES = ['licensed', 'waiting', 'not_required', 'unassigned', 'blocked'] as const;
export type LicenseState = (typeof LICENSE_STATES)[number];

export interface DeviceFilter {
  q?: string;
  state?: string;
  vendor?: string;
  /** Devices of this user. */
  user?: string;
}

/** What a device list sorts by, each answered by an index (migration 12). */
export const DEVICE_SORTS = ['mac', 'lastSeen', 'userName', 'createdAt', 'state', 'vendor'] as const;
export const DEVICE_SORT_COLUMNS: Record<(typeof DEVICE_SORTS)[number], string[]> = {
  mac: ['mac'],
  lastSeen: ['last_seen', 'mac'],
  userName: ['user_name', 'mac'],
  createdAt: ['created_at', 'mac'],
  state: ['license_state', 'mac'],
  vendor: ['vendor', 'mac'],
};

export const refuse = defineRefusals({
  DEV_MAC_INVALID: entry<{ mac: string }>(400,
    (d) => ({ en: `"${d.mac}" is not a MAC address (12 hex digits, separators allowed).`, de: `"${d.mac}" ist keine MAC-Adresse (12 Hex-Ziffern, Trennzeichen erlaubt).` }),
    fixed({ en: 'Copy the MAC from the label on the device.', de: 'Übernehmen Sie die MAC vom Etikett des Geräts.' })),
  DEV_NOT_FOUND: entry<{ mac: string }>(404,
    (d) => ({ en: `There is no device "${d.mac}".`, de: `Es gibt kein Gerät "${d.mac}".` }),
    fixed({ en: 'Let the device contact the provisioning server once, or check the MAC.', de: 'Lassen Sie das Gerät einmal den Provisionierungsserver kontaktieren oder prüfen Sie die MAC.' })),
  DEV_USER_NOT_FOUND: entry<{ userName: string }>(404,
    (d) => ({ en: `There is no user "${d.userName}".`, de: `Es gibt keinen Benutzer "${d.userName}".` }),
    fixed({ en: 'Create the user first, then assign the device.', de: 'Legen Sie zuerst den Benutzer an und weisen Sie dann das Gerät zu.' })),
  DEV_USER_PENDING: entry<{ userName: string }>(409,
    (d) => ({ en: `User "${d.userName}" is waiting for a seat and gets no phone line.`, de: `Benutzer "${d.userName}" wartet auf einen Platz und bekommt keine Telefonleitung.` }),
    fixed({ en: 'Approve the user first (a free seat is needed), then assign the device.', de: 'Geben Sie den Benutzer zuerst frei (dafür ist ein freier Platz nötig) und weisen Sie dann das Gerät zu.' })),
  DEV_BLOCKED: entry<{ mac: string }>(409,
    (d) => ({ en: `Device "${d.mac}" is blocked.`, de: `Das Gerät "${d.mac}" ist gesperrt.` }),
    fixed({ en: 'Unblock it first.', de: 'Heben Sie zuerst die Sperre auf.' })),
  DEV_VENDOR_UNKNOWN: entry<{ vendor: string; known: string }>(400,
    (d) => ({ en: `Unknown vendor "${d.vendor}"; known: ${d.known}.`, de: `Unbekannter Hersteller "${d.vendor}"; bekannt: ${d.known}.` }),
    fixed({ en: 'Choose one of the listed vendors.', de: 'Wählen Sie einen der genannten Hersteller.' })),
});

/** What the admin API and the CLI show: never the SIP password. */
export interface DeviceView {
  mac: string;
  vendor: string;
  model: string;
  firmware: string;
  lastSeen: string | null;
  lastIp: string | null;
  userName: string | null;
  line: number | null;
  displayName: string | null;
  licenseState: LicenseState;
  /** When it asked for a support license and none was free (null: it has not asked, or holds one). */
  waitingSince: string | null;
  licensedAt: string | null;
  createdAt: string;
  source: 'auto' | 'admin';
}

export interface DeviceRow {
  mac: string;
  vendor: string;
  model: string;
  firmware: string;
  source: 'auto' | 'admin';
  source_ip: string;
  created_at: string;
  last_seen: string | null;
  last_ip: string | null;
  blocked: number;
  user_name: string | null;
  line: number;
  display_name: string;
  sip_user: string;
  sip_password: string;
  license_code: string | null;
  licensed_at: string | null;
  waiting_since: string | null;
}

/** The columns a device record is made of, in a fixed order, for reading many rows as one JSON text (see Devices.load). */
export const RECORD_COLUMNS = [
  'mac', 'vendor', 'model', 'blocked', 'user_name', 'line', 'display_name', 'sip_user', 'sip_password', 'license_code', 'waiting_since',
] as const satisfies ReadonlyArray<keyof DeviceRow>;
export type RecordRow = Pick<DeviceRow, (typeof RECORD_COLUMNS)[number]>;

/**
 * A device as the provisioning server needs it (in memory, one per device; includes its line's
 * secret). Only what answering a phone and claiming a license need: dates, addresses and
 * firmware stay in the table (views read them there), which halves the memory per device.
 */
export interface DeviceRecord {
  mac: string;
  vendor: string;
  model: string;
  blocked: boolean;
  userName: string | null;
  line: number;
  displayName: string;
  sipUser: string;
  sipPassword: string;
  licenseCode: string | null;
  waitingSince: string | null;
}

export interface ProvisioningEvent {
  mac: string | null;
  vendor: string | null;
  model: string | null;
  outcome: Outcome;
  /** What happened, as a message code and the values it names (UI and pbxctl word it in their language). */
  code: string;
  values: Values;
  /** The English text of code and values, for logs and scripts. */
  detail: string;
  text: Text;
  ip: string;
  at: string;
}

/** What a provisioning outcome says: the code and values a producer passes to `note`. */
export type OutcomeNote = Omit<ProvisioningEvent, 'at' | 'detail' | 'text' | 'values' | 'code'> & { code: OutcomeCode; values?: Values };

/** A refused claim says why as a provisioning outcome message (code, values, texts). */
export type ClaimResult = { ok: true; newly: boolean } | { ok: false; reason: 'license' | 'unassigned' | 'blocked' | 'unknown'; detail: Message & { code: OutcomeCode } };

/** 12 lower-case hex digits from any of 001122AABBCC, 00:11:22:aa:bb:cc, 00-11-22-aa-bb-cc, 0011.22aa.bbcc; null if not a MAC. */
export function normalizeMac(raw: string): string | null {
  const s = raw.trim().toLowerCase();
  if (!/^[0-9a-f]{12}$|^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$|^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/.test(s)) return null;
  return s.replace(/[^0-9a-f]/g, '');
}

export function toRecord(r: RecordRow): DeviceRecord {
  return {
    mac: r.mac, vendor: r.vendor, model: r.model, blocked: r.blocked === 1, userName: r.user_name, line: r.line,
    displayName: r.display_name, sipUser: r.sip_user, sipPassword: r.sip_password, licenseCode: r.license_code, waitingSince: r.waiting_since,
  };
}

export function licenseStateOf(d: Pick<DeviceRecord, 'blocked' | 'userName' | 'vendor' | 'licenseCode'>, families: DeviceFamilies): LicenseState {
  if (d.blocked) return 'blocked';
  if (!d.userName) return 'unassigned';
  if (!families.licenseCode[d.vendor]) return 'not_required';
  return d.licenseCode ? 'licensed' : 'waiting';
}

/** The ISO text of a pending last-seen note (kept as a number until written or shown). */
export const seenAt = (s: { at: number } | undefined): string | undefined => (s ? new Date(s.at).toISOString() : undefined);
