import { defineMessages, hasMessage, messageOf, type Values } from '../kernel/messages.js';
import type { Text } from '../kernel/refusal.js';

/**
 * The audit log in words: each action, the keys and the known values of its
 * details, the counted subjects. The web UI reads these (served as msg.CODE)
 * and words an entry itself; pbxctl gets `text` made here with each entry.
 */
defineMessages({
  // actions
  'audit.action.license.stage': { en: 'License uploaded (staged)', de: 'Lizenz hochgeladen (vorgemerkt)' },
  'audit.action.license.activate': { en: 'License activated', de: 'Lizenz aktiviert' },
  'audit.action.license.activate.scheduled': { en: 'Scheduled license activated', de: 'Geplante Lizenz aktiviert' },
  'audit.action.license.schedule': { en: 'License scheduled', de: 'Lizenz eingeplant' },
  'audit.action.device.add': { en: 'Device added', de: 'Gerät hinzugefügt' },
  'audit.action.device.assign': { en: 'Device assigned', de: 'Gerät zugewiesen' },
  'audit.action.device.release': { en: 'Device released', de: 'Gerät freigegeben' },
  'audit.action.device.block': { en: 'Device blocked', de: 'Gerät gesperrt' },
  'audit.action.device.unblock': { en: 'Device unblocked', de: 'Gerät entsperrt' },
  'audit.action.device.delete': { en: 'Device deleted', de: 'Gerät gelöscht' },
  'audit.action.device.license.release': { en: 'Device license released', de: 'Gerätelizenz freigegeben' },
  'audit.action.session.end': { en: 'Client session ended', de: 'Client-Sitzung beendet' },
  'audit.action.client-token.issue': { en: 'Client token issued', de: 'Client-Token ausgestellt' },
  'audit.action.client-token.revoke': { en: 'Client token revoked', de: 'Client-Token widerrufen' },
  'audit.action.user.password': { en: 'Client password set', de: 'Client-Passwort gesetzt' },
  'audit.action.user.register': { en: 'User added', de: 'Benutzer angelegt' },
  'audit.action.user.update': { en: 'User changed', de: 'Benutzer geändert' },
  'audit.action.user.delete': { en: 'User deleted', de: 'Benutzer gelöscht' },
  'audit.action.user.import': { en: 'Users imported', de: 'Benutzer importiert' },
  'audit.action.user.approve': { en: 'Users approved', de: 'Benutzer freigegeben' },
  'audit.action.tenant.pool': { en: 'Seat pool set', de: 'Platzkontingent gesetzt' },
  'audit.action.tenant.delete': { en: 'Tenant deleted', de: 'Mandant gelöscht' },
  'audit.action.userlicense.batch': { en: 'Per-user licenses changed', de: 'Benutzerlizenzen geändert' },
  'audit.action.userlicense.reconcile': { en: 'Per-user licenses suspended/restored', de: 'Benutzerlizenzen ausgesetzt/wiederhergestellt' },
  'audit.action.admin.create': { en: 'Admin created', de: 'Admin angelegt' },
  'audit.action.admin.password': { en: 'Admin password changed', de: 'Admin-Passwort geändert' },
  'audit.action.admin.token.create': { en: 'API token created', de: 'API-Token erstellt' },
  'audit.action.admin.login': { en: 'Admin logged in', de: 'Admin angemeldet' },
  'audit.action.admin.login.failed': { en: 'Admin login refused', de: 'Admin-Anmeldung abgelehnt' },
  'audit.action.autoattendant.create': { en: 'Auto attendant created', de: 'Vermittlung angelegt' },
  'audit.action.autoattendant.update': { en: 'Auto attendant changed', de: 'Vermittlung geändert' },
  'audit.action.autoattendant.delete': { en: 'Auto attendant deleted', de: 'Vermittlung gelöscht' },
  'audit.action.autoattendant.switch': { en: 'Auto attendant switched', de: 'Vermittlung umgeschaltet' },
  'audit.action.siptrunk.create': { en: 'SIP trunk created', de: 'SIP-Trunk angelegt' },
  'audit.action.siptrunk.update': { en: 'SIP trunk changed', de: 'SIP-Trunk geändert' },
  'audit.action.siptrunk.delete': { en: 'SIP trunk deleted', de: 'SIP-Trunk gelöscht' },
  'audit.action.license.revocations': { en: 'Revocation list received', de: 'Widerrufsliste erhalten' },
  'audit.action.admin.disable': { en: 'Admin disabled', de: 'Admin deaktiviert' },
  'audit.action.admin.enable': { en: 'Admin enabled', de: 'Admin aktiviert' },
  'audit.action.admin.delete': { en: 'Admin deleted', de: 'Admin gelöscht' },
  'audit.action.admin.token.revoke': { en: 'API token revoked', de: 'API-Token widerrufen' },
  'audit.action.provisioning.alert': { en: 'Provisioning request refused', de: 'Provisionierungsanfrage abgewiesen' },
  'audit.action.provisioning.key.create': { en: 'Site provisioning key created', de: 'Provisionierungsschlüssel angelegt' },
  'audit.action.provisioning.key.rotate': { en: 'Site provisioning key changed', de: 'Provisionierungsschlüssel gewechselt' },
  'audit.action.provisioning.enrolment.open': { en: 'Enrolment window opened', de: 'Anmeldefenster geöffnet' },
  'audit.action.provisioning.enrolment.close': { en: 'Enrolment window closed', de: 'Anmeldefenster geschlossen' },
  'audit.action.provisioning.vendorca.install': { en: 'Device CA installed', de: 'Geräte-CA installiert' },
  'audit.action.provisioning.address.allow': { en: 'New device address allowed', de: 'Neue Geräteadresse erlaubt' },
  'audit.action.provisioning.address.block': { en: 'New device address refused', de: 'Neue Geräteadresse abgewiesen' },
  'audit.action.provisioning.address.pin': { en: 'Device pinned to a subnet', de: 'Gerät an ein Subnetz gebunden' },
  'audit.action.provisioning.address.unpin': { en: 'Device unpinned from its subnet', de: 'Bindung des Geräts an ein Subnetz gelöst' },
  'audit.action.provisioning.vendorca.remove': { en: 'Device CA removed', de: 'Geräte-CA entfernt' },
  // counted subjects (one / other)
  'audit.subj.changes.one': { en: '{n} change', de: '{n} Änderung' },
  'audit.subj.changes.other': { en: '{n} changes', de: '{n} Änderungen' },
  'audit.subj.records.one': { en: '{n} record', de: '{n} Datensatz' },
  'audit.subj.records.other': { en: '{n} records', de: '{n} Datensätze' },
  'audit.subj.users.one': { en: '{n} user', de: '{n} Benutzer' },
  'audit.subj.users.other': { en: '{n} users', de: '{n} Benutzer' },
  'audit.subj.reconcile': { en: '{suspended} suspended, {restored} restored', de: '{suspended} ausgesetzt, {restored} wiederhergestellt' },
  'audit.subj.allDevices': { en: 'all devices', de: 'alle Geräte' },
  // values that are words
  'audit.val.notSeen.one': { en: 'not seen for {n} day', de: 'seit {n} Tag nicht gesehen' },
  'audit.val.notSeen.other': { en: 'not seen for {n} days', de: 'seit {n} Tagen nicht gesehen' },
  'audit.val.user deleted': { en: 'user deleted', de: 'Benutzer gelöscht' },
  'audit.val.license plan': { en: 'license plan', de: 'Lizenzplan' },
  'audit.val.admin': { en: 'by an admin', de: 'durch einen Admin' },
  'audit.val.entry': { en: 'Entry', de: 'Entry' },
  'audit.val.grace': { en: 'Grace period', de: 'Kulanzfrist' },
  'audit.val.licensed': { en: 'Licensed', de: 'Lizenziert' },
  'audit.val.open': { en: 'open', de: 'geöffnet' },
  'audit.val.closed': { en: 'closed', de: 'geschlossen' },
  'audit.val.provisional': { en: 'provisional', de: 'vorläufig' },
  'audit.val.final': { en: 'final', de: 'endgültig' },
  'audit.val.desktop': { en: 'desktop client', de: 'Desktop-Client' },
  'audit.val.app': { en: 'mobile app', de: 'Mobil-App' },
  'audit.val.tapi': { en: 'TAPI driver', de: 'TAPI-Treiber' },
  'audit.val.console': { en: 'operator console', de: 'Vermittlungsplatz' },
  'audit.val.session': { en: 'browser session', de: 'Browser-Sitzung' },
  'audit.val.api': { en: 'API token', de: 'API-Token' },
  'audit.val.true': { en: 'yes', de: 'ja' },
  'audit.val.false': { en: 'no', de: 'nein' },
  // the keys of the details
  'audit.key.edition': { en: 'edition', de: 'Typ' },
  'audit.key.kind': { en: 'kind', de: 'Art' },
  'audit.key.changes': { en: 'changes', de: 'Änderungen' },
  'audit.key.released': { en: 'released', de: 'freigegeben' },
  'audit.key.activatesAt': { en: 'activates at', de: 'aktiv ab' },
  'audit.key.vendor': { en: 'vendor', de: 'Hersteller' },
  'audit.key.model': { en: 'model', de: 'Modell' },
  'audit.key.userName': { en: 'user', de: 'Benutzer' },
  'audit.key.line': { en: 'line', de: 'Leitung' },
  'audit.key.previous': { en: 'before', de: 'vorher' },
  'audit.key.license': { en: 'license', de: 'Lizenz' },
  'audit.key.reason': { en: 'reason', de: 'Grund' },
  'audit.key.id': { en: 'ID', de: 'ID' },
  'audit.key.from': { en: 'from', de: 'von' },
  'audit.key.label': { en: 'label', de: 'Bezeichnung' },
  'audit.key.tenant': { en: 'tenant', de: 'Mandant' },
  'audit.key.extension': { en: 'extension', de: 'Durchwahl' },
  'audit.key.firstName': { en: 'first name', de: 'Vorname' },
  'audit.key.lastName': { en: 'last name', de: 'Nachname' },
  'audit.key.created': { en: 'created', de: 'angelegt' },
  'audit.key.pending': { en: 'pending', de: 'wartend' },
  'audit.key.updated': { en: 'updated', de: 'aktualisiert' },
  'audit.key.unchanged': { en: 'unchanged', de: 'unverändert' },
  'audit.key.users': { en: 'users', de: 'Benutzer' },
  'audit.key.to': { en: 'to', de: 'auf' },
  'audit.key.assigned': { en: 'assigned', de: 'zugewiesen' },
  'audit.key.unassigned': { en: 'removed', de: 'entfernt' },
  'audit.key.mode': { en: 'mode', de: 'Modus' },
  'audit.key.numbers': { en: 'numbers', de: 'Rufnummern' },
  'audit.key.timeZone': { en: 'time zone', de: 'Zeitzone' },
  'audit.key.state': { en: 'state', de: 'Zustand' },
  'audit.key.at': { en: 'at', de: 'um' },
  'audit.key.changed': { en: 'changed', de: 'geändert' },
  'audit.key.renamedTo': { en: 'renamed to', de: 'umbenannt in' },
  'audit.key.registrar': { en: 'registrar', de: 'Registrar' },
  'audit.key.username': { en: 'user name', de: 'Benutzername' },
  'audit.key.channels': { en: 'channels', de: 'Kanäle' },
  'audit.key.disabled': { en: 'disabled', de: 'deaktiviert' },
  'audit.key.subject': { en: 'subject', de: 'Inhaber' },
  'audit.key.fingerprint': { en: 'fingerprint', de: 'Fingerabdruck' },
  'audit.key.serials': { en: 'serial numbers', de: 'Seriennummern' },
  'audit.key.licenseIds': { en: 'license IDs', de: 'Lizenz-IDs' },
  'audit.key.ip': { en: 'address', de: 'Adresse' },
  'audit.key.minutes': { en: 'minutes', de: 'Minuten' },
  'audit.key.overlapHours': { en: 'overlap in hours', de: 'Überlappung in Stunden' },
  'audit.key.previousValidUntil': { en: 'old key valid until', de: 'alter Schlüssel gültig bis' },
  'audit.key.expiresAt': { en: 'expires', de: 'läuft ab' },
  'audit.key.reauth': { en: 'confirmation', de: 'Bestätigung' },
  'audit.key.licenses': { en: 'licenses', de: 'Lizenzen' },
  'audit.key.subnet': { en: 'subnet', de: 'Subnetz' },
  'audit.key.address': { en: 'address', de: 'Adresse' },
  'audit.key.lockedTo': { en: 'locked to', de: 'gebunden an' },
  'audit.key.until': { en: 'until', de: 'bis' },
});

const word = (code: string, values: Values = {}): Text | null => (hasMessage(code) ? messageOf(code, values).text : null);
const same = (s: string): Text => ({ en: s, de: s });
const both = (f: (l: 'en' | 'de') => string): Text => ({ en: f('en'), de: f('de') });
/** A counted text: the one or other form. */
const counted = (code: string, n: number, values: Values = {}) => word(`${code}.${n === 1 ? 'one' : 'other'}`, { n, ...values });

/** The subject: a name as it is, a count as its words ("3 changes"; rows keep the form they were written in). */
function subjectText(s: string): Text {
  let m: RegExpExecArray | null;
  if ((m = /^(\d+) (changes|records|users)$/.exec(s))) return counted(`audit.subj.${m[2]}`, Number(m[1])) ?? same(s);
  if ((m = /^(\d+) suspended, (\d+) restored$/.exec(s))) return word('audit.subj.reconcile', { suspended: Number(m[1]), restored: Number(m[2]) }) ?? same(s);
  if (s === 'all devices') return word('audit.subj.allDevices')!;
  return same(s);
}

function valueText(v: unknown): Text {
  if (v === null || v === undefined) return same('-');
  if (Array.isArray(v)) return v.length ? both((l) => v.map((x) => valueText(x)[l]).join(', ')) : same('-');
  if (typeof v === 'number') return same(String(v));
  if (typeof v === 'boolean') return word(`audit.val.${v}`)!;
  if (typeof v === 'object') return same(JSON.stringify(v));
  const s = String(v);
  const m = /^not seen for (\d+) days$/.exec(s);
  if (m) return counted('audit.val.notSeen', Number(m[1]))!;
  // A value that is a word is worded; anything else is a name or code, quoted.
  return word(`audit.val.${s}`) ?? same(`"${s}"`);
}

/** One entry in words, in both languages: what pbxctl prints. */
export function auditText(e: { action: string; subject: string; details: Record<string, unknown> }): { action: Text; subject: Text; details: Text } {
  const details = { ...e.details };
  const parts: Text[] = [];
  // An entry that carries a message (a provisioning alert) says it in words; its English detail is then redundant.
  if (typeof details.code === 'string' && hasMessage(details.code)) {
    parts.push(messageOf(details.code, (details.values ?? {}) as Values).text);
    delete details.code, delete details.values, delete details.detail;
  }
  for (const [k, v] of Object.entries(details)) {
    const key = word(`audit.key.${k}`) ?? same(k);
    const value = valueText(v);
    parts.push(both((l) => `${key[l]}: ${value[l]}`));
  }
  return {
    action: word(`audit.action.${e.action}`) ?? same(e.action),
    subject: subjectText(e.subject),
    details: both((l) => parts.map((p) => p[l]).join('; ')),
  };
}
