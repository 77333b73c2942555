/**
 * One structured refusal everywhere (API, CLI, UI, events): a stable code, the
 * numbers involved, a remedy, German and English text. The catalogue below is
 * the only place these texts are written.
 */
export interface Text {
  en: string;
  de: string;
}

export interface RefusalJSON {
  code: string;
  status: number;
  message: string;
  text: Text;
  remedy: Text;
  details: Record<string, unknown>;
}

type Details = Record<string, unknown>;

interface RefusalEntry<D extends Details> {
  status: number;
  text: (d: D) => Text;
  remedy: (d: D) => Text;
}

export function entry<D extends Details = Record<string, never>>(status: number, text: (d: D) => Text, remedy: (d: D) => Text): RefusalEntry<D> {
  return { status, text, remedy };
}

/** A text that does not depend on the details. */
export const fixed = (t: Text) => () => t;

/**
 * Callers describe some problems in an English phrase (`problem`, `reason`); the
 * German text carries the German phrase for it, or none, never the English one.
 * Values inside a phrase (names, numbers) are kept.
 */
const GERMAN_PHRASES: Array<[RegExp, (m: RegExpExecArray) => string]> = [
  [/^is required$/, () => 'die Angabe fehlt'],
  [/^must be text$/, () => 'es muss ein Text sein'],
  [/^must be a JSON object$/, () => 'es muss ein JSON-Objekt sein'],
  [/^must be true or false$/, () => 'erlaubt sind true und false'],
  [/^at most (\d+) characters$/, (m) => `höchstens ${m[1]} Zeichen`],
  [/^at least (\d+) characters$/, (m) => `mindestens ${m[1]} Zeichen`],
  [/^(?:must be )?a whole number (-?\d+)\.\.(\d+)$/, (m) => `eine ganze Zahl von ${m[1]} bis ${m[2]}`],
  [/^1–(\d+) characters$/, (m) => `1 bis ${m[1]} Zeichen`],
  [/^not a date$/, () => 'kein Datum'],
  [/^not valid JSON$/, () => 'kein gültiges JSON'],
  [/^not JSON$/, () => 'kein JSON'],
  [/^not a JSON object$/, () => 'kein JSON-Objekt'],
  [/^not an object$/, () => 'kein Objekt'],
  [/^not valid percent-encoding$/, () => 'keine gültige Prozentkodierung'],
  [/^unsupported encoding$/, () => 'nicht unterstützte Kodierung'],
  [/^the request was aborted$/, () => 'die Anfrage wurde abgebrochen'],
  [/^could not be read \(its Content-Encoding or length is broken\)$/, () => 'nicht lesbar (Content-Encoding oder Länge fehlerhaft)'],
  [/^active or pending$/, () => 'erlaubt sind active und pending'],
  [/^one of (.+)$/, (m) => `erlaubt: ${m[1]!.replace(/ or /g, ', ')}`],
  [/^at most (\d+) per import$/, (m) => `höchstens ${m[1]} je Import`],
  [/^(.+) appears twice$/, (m) => `"${m[1]}" kommt zweimal vor`],
  [/^the CSV is empty$/, () => 'die CSV-Datei ist leer'],
  [/^the CSV header needs a userName column$/, () => 'die Kopfzeile der CSV-Datei braucht eine Spalte userName'],
  [/^send a list of users$/, () => 'erwartet wird eine Liste von Benutzern'],
  [/^a list of user names, or all: true$/, () => 'erwartet wird eine Liste von Benutzernamen oder all: true'],
  [/^you can create tokens only for yourself$/, () => 'Tokens können Sie nur für sich selbst erstellen'],
  [/^a (?:tenant )?name of at most (\d+) characters$/, (m) => `ein Name mit höchstens ${m[1]} Zeichen`],
  [/^text of at most (\d+) characters$/, (m) => `ein Text mit höchstens ${m[1]} Zeichen`],
  [/^HTTP (\d+)$/, (m) => `HTTP ${m[1]}`],
  [/^(SQLITE_\w+|E[A-Z]+)$/, (m) => m[1]!],
  [/^integrity check: (.+)$/, (m) => `Integritätsprüfung: "${m[1]}"`],
  [/^it has no pbxd schema$/, () => 'sie hat kein pbxd-Schema'],
  [/^it has no system id$/, () => 'sie hat keine System-ID'],
  [/^not an SQLite database$/, () => 'keine SQLite-Datenbank'],
  [/^it was made by a newer pbxd \(schema (\d+), this one knows (\d+)\)$/, (m) => `sie stammt von einer neueren pbxd-Version (Schema ${m[1]}, diese kennt ${m[2]})`],
  [/^user (\S+) does not exist$/, (m) => `den Benutzer "${m[1]}" gibt es nicht`],
  [/^(\S+) does not hold (\S+)$/, (m) => `"${m[1]}" hat ${m[2]} nicht`],
  [/^(\S+) takes no seat$/, (m) => `"${m[1]}" belegt keinen Benutzerplatz`],
  [/^nothing holds code (\S+)$/, (m) => `niemand hat ${m[1]}`],
];

export function germanPhrase(english: unknown): string | null {
  const text = String(english ?? '');
  for (const [re, de] of GERMAN_PHRASES) {
    const m = re.exec(text);
    if (m) return de(m);
  }
  return null;
}

/** " (German phrase)" or nothing. */
export const deParen = (english: unknown) => {
  const de = germanPhrase(english);
  return de ? ` (${de})` : '';
};

/** What REQ_NOT_FOUND / REQ_CONFLICT name ("User anna", "A staged license"), in both languages, names quoted. */
const THINGS: Array<[RegExp, string, string]> = [
  [/^User "?(.+?)"?$/, 'User', 'Der Benutzer'],
  [/^Tenant "?(.+?)"?$/, 'Tenant', 'Der Mandant'],
  [/^Admin "?(.+?)"?$/, 'Admin', 'Der Administrator'],
  [/^Auto attendant "?(.+?)"?$/, 'Auto attendant', 'Die automatische Vermittlung'],
  [/^SIP trunk "?(.+?)"?$/, 'SIP trunk', 'Der SIP-Trunk'],
  [/^((?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S+)$/, 'The API route', 'Die API-Route'],
];

function thing(what: unknown): Text {
  const text = String(what ?? '');
  if (text === 'A staged license') return { en: 'A staged license', de: 'Eine bereitgestellte Lizenz' };
  for (const [re, en, de] of THINGS) {
    const m = re.exec(text);
    if (m) return { en: `${en} "${m[1]}"`, de: `${de} "${m[1]}"` };
  }
  return { en: text, de: `"${text}"` };
}

const contactVendor: Text = {
  en: 'Ask the vendor for a new license file.',
  de: 'Fordern Sie beim Hersteller eine neue Lizenzdatei an.',
};

const coreRefusals = {
  LIC_EMPTY: entry(400, fixed({ en: 'The license file is empty.', de: 'Die Lizenzdatei ist leer.' }),
    fixed({ en: 'Upload the license file you received from the vendor.', de: 'Laden Sie die Lizenzdatei hoch, die Sie vom Hersteller erhalten haben.' })),
  LIC_TOO_LARGE: entry<{ bytes: number; limit: number }>(413,
    (d) => ({ en: `The license file is ${d.bytes} bytes; a license file has at most ${d.limit} bytes.`, de: `Die Lizenzdatei hat ${d.bytes} Bytes; eine Lizenzdatei hat höchstens ${d.limit} Bytes.` }),
    fixed({ en: 'Check that you chose the license file and not another file.', de: 'Prüfen Sie, ob Sie die Lizenzdatei und nicht eine andere Datei gewählt haben.' })),
  LIC_MALFORMED: entry<{ reason: string }>(400,
    (d) => ({ en: `This is not a pbxd license file (${d.reason}).`, de: `Dies ist keine pbxd-Lizenzdatei${deParen(d.reason)}.` }),
    fixed({ en: 'Upload the file exactly as you received it; do not edit it.', de: 'Laden Sie die Datei unverändert hoch, so wie Sie sie erhalten haben.' })),
  LIC_TRUNCATED: entry(400, fixed({ en: 'The license file is incomplete: it ends before its last block.', de: 'Die Lizenzdatei ist unvollständig: Sie endet vor ihrem letzten Block.' }),
    fixed({ en: 'Copy or download the file again, completely.', de: 'Kopieren bzw. laden Sie die Datei erneut vollständig herunter.' })),
  LIC_SIGNATURE_INVALID: entry(422, fixed({ en: 'The license file has been altered: its signature does not match its contents.', de: 'Die Lizenzdatei wurde verändert: Ihre Signatur passt nicht zum Inhalt.' }),
    fixed({ en: 'Upload the unmodified file; if it came that way, ask the vendor for a new one.', de: 'Laden Sie die unveränderte Datei hoch; falls sie so geliefert wurde, fordern Sie eine neue an.' })),
  LIC_CERT_INVALID: entry<{ reason: string }>(422,
    (d) => ({ en: `The signing certificate in the license file is invalid (${d.reason}).`, de: `Das Signaturzertifikat der Lizenzdatei ist ungültig${deParen(d.reason)}.` }),
    fixed(contactVendor)),
  LIC_UNKNOWN_CA: entry<{ issuer: string }>(422,
    (d) => ({ en: `The license was signed by "${d.issuer}", which this appliance does not trust.`, de: `Die Lizenz wurde von "${d.issuer}" signiert; dieser Stelle vertraut die Anlage nicht.` }),
    fixed({ en: 'Only licenses issued by the vendor are accepted. Ask the vendor for a genuine license file.', de: 'Es werden nur vom Hersteller ausgestellte Lizenzen akzeptiert. Fordern Sie eine echte Lizenzdatei an.' })),
  LIC_SYSTEM_ID_MISMATCH: entry<{ licenseSystemId: string; systemId: string }>(422,
    (d) => ({ en: `This license is for system ${d.licenseSystemId}, this appliance is ${d.systemId}.`, de: `Diese Lizenz gilt für das System ${d.licenseSystemId}, diese Anlage ist ${d.systemId}.` }),
    (d) => ({ en: `Send the system id ${d.systemId} to the vendor and ask for a license for this appliance.`, de: `Senden Sie die System-ID ${d.systemId} an den Hersteller und fordern Sie eine Lizenz für diese Anlage an.` })),
  LIC_NOT_YET_VALID: entry<{ validFrom: string }>(422,
    (d) => ({ en: `This license is valid only from ${d.validFrom}.`, de: `Diese Lizenz gilt erst ab ${d.validFrom}.` }),
    fixed({ en: 'Install it again on that day, or ask the vendor for a license valid today.', de: 'Installieren Sie sie an diesem Tag erneut oder fordern Sie eine heute gültige Lizenz an.' })),
  LIC_EXPIRED: entry<{ expiresAt: string; graceEndedAt: string }>(422,
    (d) => ({ en: `This license expired on ${d.expiresAt}; its grace period ended on ${d.graceEndedAt}.`, de: `Diese Lizenz ist am ${d.expiresAt} abgelaufen; ihre Kulanzfrist endete am ${d.graceEndedAt}.` }),
    fixed({ en: 'Renew the license with the vendor.', de: 'Verlängern Sie die Lizenz beim Hersteller.' })),
  LIC_ISSUED_IN_FUTURE: entry<{ issuedAt: string; now: string }>(422,
    (d) => ({ en: `This license was issued at ${d.issuedAt}, later than this appliance's time ${d.now}.`, de: `Diese Lizenz wurde am ${d.issuedAt} ausgestellt, später als die Uhrzeit dieser Anlage (${d.now}).` }),
    fixed({ en: "Check the appliance's date and time (NTP), then install the license again.", de: 'Prüfen Sie Datum und Uhrzeit der Anlage (NTP) und installieren Sie die Lizenz erneut.' })),
  LIC_UPDATE_SERVICE_ENDED: entry<{ updateServiceUntil: string; buildDate: string }>(422,
    (d) => ({ en: `The update service of this license ended on ${d.updateServiceUntil}, before this pbxd build (${d.buildDate}).`, de: `Der Aktualitätsservice dieser Lizenz endete am ${d.updateServiceUntil}, vor dieser pbxd-Version (${d.buildDate}).` }),
    fixed({ en: 'Extend the update service with the vendor, or run a pbxd build from before that date.', de: 'Verlängern Sie den Aktualitätsservice beim Hersteller oder verwenden Sie eine pbxd-Version von vor diesem Datum.' })),
  LIC_NEEDS_NEWER_PBXD: entry<{ unknown: string[] }>(422,
    (d) => ({ en: `This license needs a newer pbxd (it uses ${d.unknown.join(', ')}).`, de: `Diese Lizenz benötigt eine neuere pbxd-Version (sie verwendet ${d.unknown.join(', ')}).` }),
    fixed({ en: 'Update pbxd, then install the license again.', de: 'Aktualisieren Sie pbxd und installieren Sie die Lizenz danach erneut.' })),
  LIC_REVOKED: entry<{ what: string }>(422,
    (d) => ({ en: `The vendor has revoked the ${d.what}.`, de: `Der Hersteller hat ${d.what.replace(/^signing certificate/, 'das Signaturzertifikat').replace(/^license/, 'die Lizenz')} widerrufen.` }),
    fixed(contactVendor)),
  LIC_OVERUSED: entry<{ codes: Array<{ code: string; used: number; newTotal: number; toRemove: number }> }>(409,
    (d) => ({
      en: `The new license grants less than is in use: ${d.codes.map((c) => `${c.code} ${c.used} in use, ${c.newTotal} licensed (remove ${c.toRemove})`).join('; ')}.`,
      de: `Die neue Lizenz umfasst weniger als verwendet wird: ${d.codes.map((c) => `${c.code} ${c.used} verwendet, ${c.newTotal} lizenziert (${c.toRemove} entfernen)`).join('; ')}.`,
    }),
    fixed({ en: 'Remove the listed assignments (or apply the proposed plan with the activation), then activate again.', de: 'Entfernen Sie die aufgeführten Zuweisungen (oder übernehmen Sie den vorgeschlagenen Plan bei der Aktivierung) und aktivieren Sie erneut.' })),
  LIC_PLAN_INVALID: entry<{ problem: string }>(400,
    (d) => ({ en: `The removal plan cannot be applied: ${d.problem}.`, de: `Der Entfernungsplan kann nicht angewendet werden${deParen(d.problem)}.` }),
    fixed({ en: 'Stage the license again to get a current plan.', de: 'Stellen Sie die Lizenz erneut bereit, um einen aktuellen Plan zu erhalten.' })),
  LIC_STAGE_NOT_FOUND: entry<{ stageId: number }>(404,
    (d) => ({ en: `There is no staged license with id ${d.stageId}.`, de: `Es gibt keine bereitgestellte Lizenz mit der ID ${d.stageId}.` }),
    fixed({ en: 'Upload the license file again.', de: 'Laden Sie die Lizenzdatei erneut hoch.' })),
  AUTH_REQUIRED: entry(401, fixed({ en: 'You need to log in.', de: 'Bitte melden Sie sich an.' }),
    fixed({ en: 'Log in, or send a valid bearer token.', de: 'Melden Sie sich an oder senden Sie ein gültiges Token.' })),
  AUTH_INVALID: entry(401, fixed({ en: 'Wrong user name or password.', de: 'Benutzername oder Passwort falsch.' }),
    fixed({ en: 'Check your user name and password.', de: 'Prüfen Sie Benutzername und Passwort.' })),
  AUTH_RATE_LIMITED: entry<{ retryAfterSeconds: number }>(429,
    (d) => ({ en: `Too many failed logins; try again in ${d.retryAfterSeconds} seconds.`, de: `Zu viele fehlgeschlagene Anmeldungen; versuchen Sie es in ${d.retryAfterSeconds} Sekunden erneut.` }),
    fixed({ en: 'Wait, or reset the password with pbxctl on the appliance.', de: 'Warten Sie oder setzen Sie das Passwort mit pbxctl auf der Anlage zurück.' })),
  CSRF_INVALID: entry(403, fixed({ en: 'The request lacks a valid CSRF token.', de: 'Der Anfrage fehlt ein gültiges CSRF-Token.' }),
    fixed({ en: 'Reload the page and try again.', de: 'Laden Sie die Seite neu und versuchen Sie es erneut.' })),
  REQ_INVALID: entry<{ field: string; problem: string }>(400,
    (d) => ({ en: `Invalid ${d.field}: ${d.problem}.`, de: `Ungültige Angabe im Feld "${d.field}"${germanPhrase(d.problem) ? `: ${germanPhrase(d.problem)}` : ''}.` }),
    fixed({ en: 'Correct the request and send it again.', de: 'Korrigieren Sie die Anfrage und senden Sie sie erneut.' })),
  REQ_NOT_FOUND: entry<{ what: string }>(404,
    (d) => ({ en: `${thing(d.what).en} does not exist.`, de: `${thing(d.what).de} existiert nicht.` }),
    fixed({ en: 'Check the name or id.', de: 'Prüfen Sie den Namen bzw. die ID.' })),
  REQ_CONFLICT: entry<{ what: string }>(409,
    (d) => ({ en: `${thing(d.what).en} already exists.`, de: `${thing(d.what).de} existiert bereits.` }),
    fixed({ en: 'Choose another name, or change the existing one.', de: 'Wählen Sie einen anderen Namen oder ändern Sie den vorhandenen Eintrag.' })),
  REQ_TOO_LARGE: entry<{ limit: number }>(413,
    (d) => ({ en: `The request body is larger than ${d.limit} bytes.`, de: `Der Inhalt der Anfrage ist größer als ${d.limit} Bytes.` }),
    fixed({ en: 'Send less data at once.', de: 'Senden Sie weniger Daten auf einmal.' })),
  SERVER_STOPPING: entry(503, fixed({ en: 'pbxd is shutting down.', de: 'pbxd wird beendet.' }),
    fixed({ en: 'Try again in a few seconds.', de: 'Versuchen Sie es in einigen Sekunden erneut.' })),
  STORE_UNAVAILABLE: entry<{ reason: string }>(503,
    (d) => ({ en: `The database cannot be written (${d.reason}); nothing was changed.`, de: `Die Datenbank kann nicht geschrieben werden${deParen(d.reason)}; es wurde nichts geändert.` }),
    fixed({ en: 'Check free disk space and permissions of the data folder.', de: 'Prüfen Sie freien Speicherplatz und Rechte des Datenordners.' })),
};

export class Refusal extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly text: Text,
    readonly remedy: Text,
    readonly details: Details,
  ) {
    super(text.en);
    this.name = 'Refusal';
  }

  toJSON(): RefusalJSON {
    return { code: this.code, status: this.status, message: this.text.en, text: this.text, remedy: this.remedy, details: this.details };
  }
}

type DetailsOf<E> = E extends RefusalEntry<infer D> ? D : never;
type Refuse<T> = <C extends keyof T & string>(
  code: C,
  ...details: DetailsOf<T[C]> extends Record<string, never> ? [] : [DetailsOf<T[C]>]
) => Refusal;

/** Every refusal code of every feature, so codes stay unique and can be listed. */
const registry = new Map<string, RefusalEntry<Details>>();

/**
 * Each feature declares its refusals next to its code; they all land in one
 * registry (codes must be unique) and share one shape.
 */
export function defineRefusals<T extends Record<string, RefusalEntry<any>>>(entries: T): Refuse<T> {
  for (const [code, e] of Object.entries(entries)) {
    if (registry.has(code)) throw new Error(`refusal code ${code} defined twice`);
    registry.set(code, e);
  }
  return ((code: string, details: Details = {}) => {
    const e = registry.get(code)!;
    return new Refusal(code, e.status, e.text(details), e.remedy(details), details);
  }) as Refuse<T>;
}

/** Any code's refusal, e.g. to check every text of the catalogue. */
export function refusalOf(code: string, details: Details = {}): Refusal {
  const e = registry.get(code);
  if (!e) throw new Error(`unknown refusal code ${code}`);
  return new Refusal(code, e.status, e.text(details), e.remedy(details), details);
}

export function refusalCodes(): string[] {
  return [...registry.keys()].sort();
}

export const refuse = defineRefusals(coreRefusals);

export function isRefusal(e: unknown): e is Refusal {
  return e instanceof Refusal;
}
