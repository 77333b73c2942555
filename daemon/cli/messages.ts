import type { ApiTarget } from './client.js';

type Lang = 'en' | 'de';
type T = { en: string; de: string };

/**
 * Everything pbxctl writes itself, in English and German (the daemon's
 * refusals and mode reasons come with both texts already). One catalogue, so
 * a German admin reads German only: LANG, LC_ALL or LC_MESSAGES = de_*.
 */
export const cliTexts = {
  // errors of pbxctl itself
  unreachable: (where: string): T => ({ en: `cannot reach pbxd (${where}): is it running?`, de: `pbxd ist nicht erreichbar (${where}): Läuft der Dienst?` }),
  socketDenied: (where: string): T => ({ en: `no permission to use ${where}: run as root or the pbxd user`, de: `Keine Berechtigung für ${where}: als root oder als Benutzer pbxd ausführen` }),
  noSuchFile: (file: string): T => ({ en: `cannot read ${file}: no such file`, de: `${file} kann nicht gelesen werden: Die Datei existiert nicht` }),
  fileDenied: (file: string): T => ({ en: `cannot read ${file}: permission denied`, de: `${file} kann nicht gelesen werden: Keine Berechtigung` }),
  isFolder: (file: string): T => ({ en: `cannot read ${file}: it is a folder, not a file`, de: `${file} kann nicht gelesen werden: Es ist ein Ordner, keine Datei` }),
  notJson: (file: string): T => ({ en: `${file} is not valid JSON`, de: `${file} enthält kein gültiges JSON` }),
  unknownCommand: (line: string): T => ({ en: `unknown command "${line}"`, de: `Unbekannter Befehl "${line}"` }),
  needsValue: (flag: string): T => ({ en: `${flag} needs a value`, de: `${flag} braucht einen Wert` }),
  needs: (what: string): T => ({ en: `give ${what}`, de: `Bitte ${what} angeben` }),
  // what a command needs (the argument names stay as in the usage line)
  argUser: (): T => ({ en: 'the USER name', de: 'den Benutzernamen (USER)' }),
  argUserAndCodes: (): T => ({ en: 'USER and at least one CODE', de: 'USER und mindestens einen CODE' }),
  argTenantSeats: (): T => ({ en: 'TENANT and SEATS', de: 'TENANT und SEATS' }),
  argFile: (): T => ({ en: 'the FILE (- for standard input)', de: 'die Datei FILE (- für die Standardeingabe)' }),
  argMac: (): T => ({ en: 'the device MAC', de: 'die MAC-Adresse des Geräts' }),
  argJob: (): T => ({ en: 'the job NAME (pbxctl jobs lists them)', de: 'den Namen des Jobs (pbxctl jobs listet sie)' }),
  argRequestKey: (): T => ({ en: 'the 10-digit request KEY from the license certificate', de: 'den 10-stelligen Anforderungsschlüssel vom Lizenzzertifikat' }),
  argBackup: (): T => ({ en: 'the backup FILE (pbxctl backup list shows them)', de: 'die Sicherungsdatei (pbxctl backup list zeigt sie)' }),
  argName: (): T => ({ en: 'the NAME', de: 'den Namen (NAME)' }),
  argJsonFile: (): T => ({ en: '--file FILE with the JSON (or --file - for standard input)', de: '--file FILE mit dem JSON (oder --file - für die Standardeingabe)' }),
  argSession: (): T => ({ en: 'the session ID (see pbxctl sessions list)', de: 'die Sitzungs-ID (siehe pbxctl sessions list)' }),
  argToken: (): T => ({ en: 'the token ID (see pbxctl users tokens USER)', de: 'die Token-ID (siehe pbxctl users tokens USER)' }),
  argAdmin: (): T => ({ en: 'the admin NAME', de: 'den Namen des Administrators' }),
  // status
  statusMode: (): T => ({ en: 'Mode', de: 'Modus' }),
  statusSystemId: (): T => ({ en: 'System id', de: 'System-ID' }),
  statusEdition: (): T => ({ en: 'Edition', de: 'Edition' }),
  statusLicense: (): T => ({ en: 'License', de: 'Lizenz' }),
  statusOperator: (): T => ({ en: 'Operator', de: 'Betreiber' }),
  statusValidFrom: (): T => ({ en: 'Valid from', de: 'Gültig ab' }),
  statusExpires: (): T => ({ en: 'Expires', de: 'Läuft ab' }),
  statusGraceLeft: (): T => ({ en: 'Grace days left', de: 'Kulanztage übrig' }),
  statusUpdateService: (): T => ({ en: 'Update service until', de: 'Aktualitätsservice bis' }),
  statusScheduled: (): T => ({ en: 'Scheduled', de: 'Geplant' }),
  modeLicensed: (): T => ({ en: 'LICENSED', de: 'LIZENZIERT' }),
  modeGrace: (): T => ({ en: 'GRACE', de: 'KULANZFRIST' }),
  modeEntry: (): T => ({ en: 'ENTRY', de: 'ENTRY' }),
  never: (): T => ({ en: 'never', de: 'nie' }),
  trial: (): T => ({ en: 'trial', de: 'Testlizenz' }),
  provisional: (): T => ({ en: 'provisional', de: 'vorläufig' }),
  activated: (): T => ({ en: 'activated', de: 'aktiviert' }),
  activatesOn: (id: string, at: string): T => ({ en: `${id} activates on ${at}`, de: `${id} wird am ${at} aktiv` }),
  // license
  licenseInForce: (id: string): T => ({ en: `license ${id} is now in force`, de: `Lizenz ${id} ist jetzt in Kraft` }),
  licenseScheduled: (id: string, at: string): T => ({ en: `license ${id} is accepted and activates on ${at}`, de: `Lizenz ${id} ist angenommen und wird am ${at} aktiv` }),
  staged: (id: number): T => ({ en: `staged as ${id}; activate with: pbxctl license activate ${id}`, de: `bereitgestellt als ${id}; aktivieren mit: pbxctl license activate ${id}` }),
  stagedLicense: (id: number): T => ({ en: `staged license ${id}`, de: `bereitgestellte Lizenz ${id}` }),
  needsRemovals: (): T => ({ en: 'Activation needs removals first:', de: 'Vor der Aktivierung muss entfernt werden:' }),
  overusedLine: (code: string, used: number, total: number, remove: number, holders: string): T => ({
    en: `${code}: ${used} in use, ${total} licensed: remove ${remove} (holders: ${holders})`,
    de: `${code}: ${used} verwendet, ${total} lizenziert: ${remove} entfernen (Inhaber: ${holders})`,
  }),
  proposedPlan: (): T => ({
    en: 'Proposed plan (least recently active first); apply it with the activation: pbxctl license activate --apply-plan',
    de: 'Vorgeschlagener Plan (am längsten inaktive zuerst); mit der Aktivierung übernehmen: pbxctl license activate --apply-plan',
  }),
  planStep: (code: string, kind: string, id: string): T => ({ en: `release ${code} from ${kind} ${id}`, de: `${code} von ${kind} ${id} freigeben` }),
  checkNothingNew: (): T => ({ en: 'nothing new: the activation server has no newer license for this appliance', de: 'nichts Neues: Der Aktivierungsserver hat keine neuere Lizenz für diese Anlage' }),
  checkInstalled: (id: string): T => ({ en: `installed license ${id}`, de: `Lizenz ${id} installiert` }),
  checkActivatesOn: (at: string): T => ({ en: `; it activates on ${at}`, de: `; sie wird am ${at} aktiv` }),
  checkNeedsRemovals: (id: string, stage: number): T => ({ en: `license ${id} needs removals first (staged as ${stage}):`, de: `Lizenz ${id} braucht zuerst Entfernungen (bereitgestellt als ${stage}):` }),
  checkThenActivate: (stage: number): T => ({ en: `Remove the assignments, then: pbxctl license activate ${stage}`, de: `Entfernen Sie die Zuweisungen, dann: pbxctl license activate ${stage}` }),
  provisionalInForce: (kind: string, id: string, until: string): T => ({
    en: `${kind} license ${id} is now in force (valid until ${until}); the online check replaces it with the final license`,
    de: `${kind === 'provisional' ? 'Vorläufige' : 'Endgültige'} Lizenz ${id} ist jetzt in Kraft (gültig bis ${until}); die Online-Prüfung ersetzt sie durch die endgültige Lizenz`,
  }),
  usageWritten: (systemId: string, file: string, key: string): T => ({ en: `usage report for ${systemId} written to ${file} (key ${key})`, de: `Nutzungsbericht für ${systemId} in ${file} geschrieben (Schlüssel ${key})` }),
  // users
  registered: (user: string): T => ({ en: `registered ${user}`, de: `${user} registriert` }),
  deleted: (user: string): T => ({ en: `deleted ${user}`, de: `${user} gelöscht` }),
  imported: (c: number, p: number, u: number, same: number, s: number): T => ({
    en: `created ${c}, pending approval ${p}, updated ${u}, unchanged ${same}, skipped ${s}`,
    de: `angelegt ${c}, warten auf Freigabe ${p}, geändert ${u}, unverändert ${same}, übersprungen ${s}`,
  }),
  approved: (n: number, names: string, pending: number): T => ({ en: `approved ${n}${names ? ': ' + names : ''}; ${pending} still pending`, de: `${n} freigegeben${names ? ': ' + names : ''}; ${pending} warten noch` }),
  seatsInPools: (pooled: number, total: number): T => ({ en: `${pooled} of ${total} seats in pools`, de: `${pooled} von ${total} Benutzerplätzen in Pools` }),
  poolSet: (tenant: string, seats: string): T => ({ en: `pool of ${tenant}: ${seats} seats`, de: `Pool von ${tenant}: ${seats} Plätze` }),
  changesApplied: (n: number): T => ({ en: `${n} change(s) applied`, de: `${n} Änderung(en) übernommen` }),
  builtIn: (): T => ({ en: 'built-in', de: 'eingebaut' }),
  active: (): T => ({ en: 'active', de: 'aktiv' }),
  pending: (): T => ({ en: 'pending', de: 'wartet auf Freigabe' }),
  // devices
  deviceAssigned: (mac: string, user: string, state: string): T => ({ en: `${mac} assigned to ${user} (license: ${state})`, de: `${mac} ist ${user} zugewiesen (Lizenz: ${state})` }),
  deviceReleased: (mac: string, state: string): T => ({ en: `${mac} released (license: ${state})`, de: `${mac} freigegeben (Lizenz: ${state})` }),
  deviceBlocked: (mac: string, state: string): T => ({ en: `${mac} blocked (license: ${state})`, de: `${mac} gesperrt (Lizenz: ${state})` }),
  deviceUnblocked: (mac: string, state: string): T => ({ en: `${mac} unblocked (license: ${state})`, de: `${mac} entsperrt (Lizenz: ${state})` }),
  licensed: (): T => ({ en: 'licensed', de: 'lizenziert' }),
  waiting: (): T => ({ en: 'waiting', de: 'wartet' }),
  unassigned: (): T => ({ en: 'unassigned', de: 'nicht zugewiesen' }),
  blocked: (): T => ({ en: 'blocked', de: 'gesperrt' }),
  notRequired: (): T => ({ en: 'not required', de: 'nicht nötig' }),
  // jobs, backups
  yes: (): T => ({ en: 'yes', de: 'ja' }),
  no: (): T => ({ en: 'no', de: 'nein' }),
  failedUpper: (): T => ({ en: 'NO', de: 'NEIN' }),
  running: (): T => ({ en: 'running…', de: 'läuft…' }),
  jobRan: (name: string, ok: boolean, result: string): T => ({ en: `${name}: ${ok ? 'ok' : 'FAILED'} — ${result}`, de: `${name}: ${ok ? 'ok' : 'FEHLGESCHLAGEN'} — ${result}` }),
  backupWritten: (path: string, bytes: number): T => ({ en: `backup written: ${path} (${bytes} bytes)`, de: `Sicherung geschrieben: ${path} (${bytes} Bytes)` }),
  restored: (file: string, dir: string): T => ({ en: `restored ${file} into ${dir}`, de: `${file} in ${dir} zurückgespielt` }),
  restoredPrevious: (file: string): T => ({ en: `the previous database is kept as ${file}`, de: `die bisherige Datenbank bleibt als ${file} erhalten` }),
  restoredForeign: (dataSystemId: string, systemId: string): T => ({
    en: `this data comes from another appliance (system ${dataSystemId}): pbxd runs in Entry mode until a rehost license for ${systemId} is installed`,
    de: `diese Daten stammen von einer anderen Anlage (System ${dataSystemId}): pbxd läuft im Entry-Modus, bis eine Rehost-Lizenz für ${systemId} installiert ist`,
  }),
  warning: (text: string): T => ({ en: `WARNING: ${text}`, de: `WARNUNG: ${text}` }),
  restoredStart: (): T => ({ en: 'start pbxd again: systemctl start pbxd', de: 'pbxd wieder starten: systemctl start pbxd' }),
  // auto attendants, trunks
  aaInUse: (used: number, total: number): T => ({ en: `Auto attendants: ${used} of ${total} licensed in use`, de: `Automatische Vermittlungen: ${used} von ${total} lizenzierten in Verwendung` }),
  aaCreated: (name: string, state: string, next: string): T => ({ en: `auto attendant ${name} created; it is ${state} (next switch ${next})`, de: `Automatische Vermittlung ${name} angelegt; sie ist ${state} (nächste Umschaltung ${next})` }),
  aaChanged: (name: string, state: string, next: string): T => ({ en: `auto attendant ${name} changed; it is ${state} (next switch ${next})`, de: `Automatische Vermittlung ${name} geändert; sie ist ${state} (nächste Umschaltung ${next})` }),
  aaDeleted: (name: string): T => ({ en: `auto attendant ${name} deleted`, de: `Automatische Vermittlung ${name} gelöscht` }),
  open: (): T => ({ en: 'open', de: 'geöffnet' }),
  closed: (): T => ({ en: 'closed', de: 'geschlossen' }),
  trunkChannels: (used: number, total: number): T => ({ en: `SIP trunk channels: ${used} of ${total} licensed configured`, de: `SIP-Trunk-Kanäle: ${used} von ${total} lizenzierten konfiguriert` }),
  trunkCreated: (name: string, channels: number): T => ({ en: `SIP trunk ${name} created with ${channels} channels`, de: `SIP-Trunk ${name} mit ${channels} Kanälen angelegt` }),
  trunkChanged: (name: string, channels: number): T => ({ en: `SIP trunk ${name} changed (${channels} channels)`, de: `SIP-Trunk ${name} geändert (${channels} Kanäle)` }),
  trunkDeleted: (name: string): T => ({ en: `SIP trunk ${name} deleted`, de: `SIP-Trunk ${name} gelöscht` }),
  set: (): T => ({ en: 'set', de: 'gesetzt' }),
  // sessions, tokens, admins, audit
  sessionEnded: (id: string): T => ({ en: `session ${id} ended`, de: `Sitzung ${id} beendet` }),
  tokenRevoked: (id: string): T => ({ en: `client token ${id} revoked`, de: `Client-Token ${id} widerrufen` }),
  auditIntact: (rows: number): T => ({ en: `audit log intact (${rows} rows)`, de: `Prüfprotokoll unverändert (${rows} Einträge)` }),
  auditTampered: (problem: string): T => ({ en: `AUDIT LOG TAMPERED: ${problem}`, de: `PRÜFPROTOKOLL MANIPULIERT: ${problem}` }),
  passwordSet: (name: string): T => ({ en: `password of ${name} set; its sessions and tokens were ended`, de: `Passwort von ${name} gesetzt; seine Sitzungen und Tokens wurden beendet` }),
  pageShown: (from: number, to: number, total: number, noun: string): T => ({ en: `${from}–${to} of ${total} ${noun}`, de: `${from}–${to} von ${total} ${NOUNS_DATIVE[noun] ?? noun}` }),
  pageNone: (total: number, noun: string): T => ({ en: `none of ${total} ${noun}`, de: `keine von ${total} ${NOUNS_DATIVE[noun] ?? noun}` }),
  listSeen: (n: number, noun: string): T => ({ en: `${n} ${noun}`, de: `${n} ${NOUNS[noun] ?? noun}` }),
  argSubnet: (): T => ({ en: 'a SUBNET, or none to unpin', de: 'ein Subnetz (zum Lösen: "none")' }),
  argVendorCa: (): T => ({ en: 'the vendor MODULE (as in provisioning urls) and the PEM FILE', de: 'das Hersteller-Modul (wie in provisioning urls) und die PEM-Datei' }),
  argVendorModule: (): T => ({ en: 'the vendor MODULE', de: 'das Hersteller-Modul' }),
  provCredentials: (user: string, password: string): T => ({ en: `provisioning user ${user}, password ${password}`, de: `Provisionierungs-Benutzer ${user}, Passwort ${password}` }),
  provPreviousKey: (until: string): T => ({ en: `the previous key keeps working until ${until}`, de: `der bisherige Schlüssel gilt weiter bis ${until}` }),
  provAllDevices: (): T => ({ en: 'all devices', de: 'alle Geräte' }),
  provEnrolmentOpen: (what: string, until: string): T => ({ en: `enrolment window open for ${what} until ${until}`, de: `Anmeldefenster offen für ${what} bis ${until}` }),
  provEnrolmentClosed: (what: string): T => ({ en: `enrolment window closed for ${what}`, de: `Anmeldefenster geschlossen für ${what}` }),
  provNewKey: (): T => ({ en: 'new site key; set these URLs on the phones:', de: 'neuer Standortschlüssel; tragen Sie diese URLs an den Telefonen ein:' }),
  provPinned: (subnet: string): T => ({ en: `pinned to ${subnet}`, de: `an ${subnet} gebunden` }),
  provLocked: (ip: string): T => ({ en: `locked to ${ip}`, de: `an ${ip} gesperrt` }),
  provNotLocked: (): T => ({ en: 'not locked yet', de: 'noch nicht gebunden' }),
  provRefusedAddress: (ip: string, n: number): T => ({ en: `refused ${ip} (${n}×)`, de: `${ip} abgewiesen (${n}×)` }),
  provMayMove: (until: string): T => ({ en: `may move until ${until}`, de: `darf bis ${until} umziehen` }),
  provNoVendorCa: (): T => ({ en: 'no vendor device CA installed', de: 'keine Geräte-CA eines Herstellers installiert' }),
  provVendorCaInstalled: (module: string, subject: string): T => ({ en: `${module}: device CA ${subject} installed`, de: `${module}: Geräte-CA ${subject} installiert` }),
  provVendorCaRemoved: (module: string): T => ({ en: `${module}: device CA removed`, de: `${module}: Geräte-CA entfernt` }),
  provNoAlerts: (): T => ({ en: 'no alerts', de: 'keine Warnungen' }),
  adminActive: (): T => ({ en: 'active', de: 'aktiv' }),
  adminDisabled: (): T => ({ en: 'disabled', de: 'deaktiviert' }),
  adminAdded: (name: string): T => ({ en: `admin ${name} added`, de: `Administrator ${name} angelegt` }),
  adminDisabledDone: (name: string): T => ({ en: `admin ${name} disabled; its sessions and tokens were ended`, de: `Administrator ${name} deaktiviert; seine Sitzungen und Tokens wurden beendet` }),
  adminEnabledDone: (name: string): T => ({ en: `admin ${name} enabled`, de: `Administrator ${name} aktiviert` }),
  adminDeleted: (name: string): T => ({ en: `admin ${name} deleted`, de: `Administrator ${name} gelöscht` }),
  argTokenId: (): T => ({ en: 'the token ID (see token list)', de: 'die Token-ID (siehe token list)' }),
  apiTokenRevoked: (id: string): T => ({ en: `API token ${id} revoked`, de: `API-Token ${id} widerrufen` }),
};

/** What a paged list counts, English → German. */
const NOUNS: Record<string, string> = {
  users: 'Benutzer', devices: 'Geräte', events: 'Ereignisse', sessions: 'Sitzungen', entries: 'Einträge', licenses: 'Lizenzen', rows: 'Zeilen',
};
/** The same after "von" (dative plural). */
const NOUNS_DATIVE: Record<string, string> = {
  users: 'Benutzern', devices: 'Geräten', events: 'Ereignissen', sessions: 'Sitzungen', entries: 'Einträgen', licenses: 'Lizenzen', rows: 'Zeilen',
};

/** Column headings, English → German. */
const HEADINGS: Record<string, string> = {
  code: 'Code', name: 'Name', used: 'verwendet', total: 'gesamt', old: 'alt', new: 'neu', 'to remove': 'zu entfernen', 'new total': 'neu gesamt',
  user: 'Benutzer', 'first name': 'Vorname', 'last name': 'Nachname', tenant: 'Mandant', ext: 'Durchwahl', status: 'Status', seats: 'Plätze', pending: 'wartend',
  mac: 'MAC', vendor: 'Hersteller', model: 'Modell', license: 'Lizenz', 'waiting since': 'wartet seit', 'last seen': 'zuletzt gesehen', 'last ip': 'letzte IP',
  at: 'Zeit', outcome: 'Ergebnis', ip: 'IP', detail: 'Einzelheiten',
  job: 'Job', schedule: 'Zeitplan', enabled: 'aktiv', 'next run': 'nächster Lauf', 'last run': 'letzter Lauf', ok: 'ok', result: 'Ergebnis',
  file: 'Datei', bytes: 'Bytes', created: 'angelegt',
  numbers: 'Rufnummern', state: 'Zustand', since: 'seit', 'next change': 'nächste Umschaltung', 'time zone': 'Zeitzone',
  registrar: 'Registrar', username: 'Benutzername', password: 'Passwort', channels: 'Kanäle',
  'last login': 'letzte Anmeldung', set: 'setzen', value: 'Wert', admin: 'Administrator', expires: 'läuft ab',
  id: 'ID', kind: 'Art', from: 'von', label: 'Bezeichnung', by: 'von', 'last used': 'zuletzt benutzt',
  actor: 'Akteur', action: 'Aktion', subject: 'Gegenstand', details: 'Einzelheiten',
};

/** What each command does (its usage line's description), German; keyed by the command's words. */
export const HELP_DE: Record<string, string> = {
  'status': 'Modus und Grund, System-ID, jeder Code mit verwendet/gesamt',
  'license stage': 'eine Lizenzdatei prüfen und zeigen, was sich ändern würde',
  'license diff': 'was die bereitgestellte Lizenz ändern würde',
  'license activate': 'die bereitgestellte Lizenz in Kraft setzen (mit einem Entfernungsplan)',
  'license install': 'eine Lizenzdatei bereitstellen und aktivieren',
  'users list': 'Benutzer',
  'users add': 'einen Benutzer registrieren (belegt einen Platz)',
  'users delete': 'einen Benutzer löschen (gibt seinen Platz und seine Lizenzen frei)',
  'users import': 'Verzeichnisabgleich aus CSV oder JSON; wer keinen freien Platz findet, wartet auf Freigabe',
  'users approve': 'wartende Benutzer freigeben (eine Liste ganz oder gar nicht; --all so viele wie passen)',
  'tenants list': 'Mandanten und ihre Platz-Pools',
  'tenants set': 'einen Platz-Pool anlegen oder ändern',
  'licenses list': 'die Tabelle der Benutzerlizenzen',
  'licenses assign': 'einem Benutzer Benutzerlizenzen geben',
  'licenses unassign': 'einem Benutzer Benutzerlizenzen nehmen',
  'devices list': 'Telefone und ihr Lizenzzustand',
  'devices assign': 'ein Gerät einem Benutzer zuweisen (mit eigener SIP-Leitung)',
  'devices release': 'Benutzer entfernen und Supportlizenz freigeben',
  'devices block': 'dieses Gerät nie mehr bedienen',
  'devices unblock': 'es wieder bedienen',
  'devices events': 'die letzten Ergebnisse der Provisionierung',
  'jobs': 'geplante Jobs: nächster Lauf, letzter Lauf und Ergebnis',
  'jobs list': 'dasselbe wie pbxctl jobs',
  'jobs run': 'einen Job jetzt ausführen und sein Ergebnis zeigen',
  'license check': 'den Aktivierungsserver jetzt nach einer neueren Lizenz fragen',
  'license request': 'den 10-stelligen Anforderungsschlüssel gegen eine vorläufige Lizenz tauschen',
  'usage report': 'signierter Nutzungsbericht für den Hersteller',
  'backup list': 'Datenbanksicherungen, neueste zuerst',
  'backup now': 'die Datenbank jetzt sichern',
  'backup restore': 'eine Sicherung zurückspielen (pbxd muss gestoppt sein)',
  'aa list': 'automatische Vermittlungen: geöffnet oder geschlossen, nächste Umschaltung, Lizenzen',
  'aa show': 'eine automatische Vermittlung mit Zeitplan und Aktionen',
  'aa add': 'eine automatische Vermittlung aus JSON anlegen {name, numbers, schedule, inHours, outOfHours}',
  'aa set': 'eine automatische Vermittlung ändern (JSON mit den zu ändernden Feldern)',
  'aa delete': 'eine automatische Vermittlung löschen (gibt ihre Lizenz frei)',
  'trunks list': 'SIP-Trunks und Trunk-Kanäle verwendet/gesamt',
  'trunks add': 'Passwort aus PBXCTL_TRUNK_PASSWORD oder der Standardeingabe',
  'trunks set': '--password liest es wie add',
  'trunks delete': 'einen SIP-Trunk löschen (gibt seine Kanäle frei)',
  'sessions list': 'laufende Client-Sitzungen (K: desktop, app, tapi, console)',
  'sessions end': 'eine Client-Sitzung beenden (der Client erfährt, dass ein Administrator sie beendet hat)',
  'users token': 'ein Client-Token für USER ausstellen (wird einmal gezeigt)',
  'users tokens': 'die Client-Tokens von USER (ohne Geheimnisse)',
  'users token-revoke': 'ein Client-Token widerrufen; seine Sitzungen enden',
  'audit verify': 'prüfen, dass kein Eintrag des Prüfprotokolls geändert oder gelöscht wurde',
  'audit': 'das Prüfprotokoll, neueste zuerst',
  'admin list': 'Administratorkonten',
  'admin passwd': 'ein Administratorpasswort setzen (oder das Konto anlegen); liest es von der Standardeingabe',
  'token create': 'ein API-Token für Skripte (wird einmal gezeigt; läuft nach N Tagen ab, Standard 90)',
  'provisioning urls': 'je Hersteller die Provisionierungs-URL oder der DHCP-Wert (mit dem Standortschlüssel)',
  'provisioning key rotate': 'ein neuer Standortschlüssel; der alte gilt noch N Stunden',
  'provisioning enrolment open': 'gebundene Geräte (oder eines) dürfen an eine neue Adresse umziehen',
  'provisioning enrolment close': 'das Anmeldefenster schließen (ohne MAC: alle Fenster)',
  'provisioning allow': 'die abgewiesene neue Adresse wird die des Geräts',
  'provisioning block': 'die neue Adresse weiter abweisen (löscht die Warnung)',
  'provisioning pin': 'das Gerät darf nur aus dem Subnetz abrufen (z. B. 10.1.2.0/24)',
  'provisioning vendor-ca list': 'installierte Geräte-CAs der Hersteller (Werkszertifikate)',
  'provisioning vendor-ca install': 'die Telefone des Herstellers müssen dann ein Werkszertifikat vorlegen',
  'provisioning vendor-ca remove': 'von diesem Hersteller kein Client-Zertifikat mehr verlangen',
  'provisioning alerts': 'abgewiesene Zugriffe auf Zugangsdaten von Geräten, neueste zuerst',
  'admin add': 'einen Administrator anlegen; liest sein Passwort von der Standardeingabe (mindestens 12 Zeichen)',
  'admin disable': 'einen Administrator deaktivieren (beendet seine Sitzungen und Tokens)',
  'admin enable': 'einen deaktivierten Administrator wieder aktivieren',
  'admin delete': 'einen Administrator löschen (nie den letzten aktiven)',
  'token list': 'API-Tokens: Bezeichnung, Ablauf, letzte Benutzung',
  'token revoke': 'ein API-Token sofort widerrufen',
};

export const GLOBAL_OPTIONS: Record<Lang, string> = {
  en: `Global options (anywhere on the line):
  --json              machine-readable output
  --socket PATH       control socket (default: from the daemon's config)
  --config FILE       the daemon's config file, to find its socket
  --url URL --token T talk to a daemon over HTTP (or PBXCTL_URL / PBXCTL_TOKEN)`,
  de: `Globale Optionen (überall in der Zeile):
  --json              maschinenlesbare Ausgabe
  --socket PATH       Steuer-Socket (Standard: aus der Konfiguration des Dienstes)
  --config FILE       die Konfigurationsdatei des Dienstes, um seinen Socket zu finden
  --url URL --token T über HTTP mit einem Dienst sprechen (oder PBXCTL_URL / PBXCTL_TOKEN)`,
};

export const HELP_TITLE: Record<Lang, string> = { en: 'pbxctl — control the pbxd daemon', de: 'pbxctl — den Dienst pbxd steuern' };

let current: Lang = 'en';

/** The language of this run, from the environment as the C library would choose it. */
export function languageFromEnv(env: NodeJS.ProcessEnv = process.env): Lang {
  return (env.LC_ALL || env.LC_MESSAGES || env.LANG || '').startsWith('de') ? 'de' : 'en';
}

export function setLanguage(lang: Lang): void {
  current = lang;
}

export function language(): Lang {
  return current;
}

export function cliText<K extends keyof typeof cliTexts>(key: K, ...args: Parameters<(typeof cliTexts)[K]>): string {
  return (cliTexts[key] as (...a: unknown[]) => T)(...args)[current];
}

/** Column headings in the language of this run. */
export function headings(...names: string[]): string[] {
  return current === 'de' ? names.map((n) => HEADINGS[n] ?? n) : names;
}

/** Any {en, de} pair from the daemon (mode reasons, code labels) in the language of this run. */
export const pick = (t: T): string => t[current];

/** An input problem pbxctl finds before asking the daemon: "give …", in the language of this run. */
class UsageError extends Error {}
export function need(what: string): UsageError {
  return new UsageError(cliText('needs', what));
}

/** The MAC a device command acts on, or the usage error naming it. */
export function needMac(mac: string | undefined): string {
  if (!mac) throw need(cliText('argMac'));
  return mac;
}

/** A device's license state or a user's status as the table shows it. */
export function stateWord(state: string | null | undefined): string {
  const words: Record<string, keyof typeof cliTexts> = { licensed: 'licensed', waiting: 'waiting', unassigned: 'unassigned', blocked: 'blocked', not_required: 'notRequired', active: 'active', pending: 'pending', open: 'open', closed: 'closed' };
  const key = state ? words[state] : undefined;
  return key ? cliText(key as 'licensed') : (state ?? '');
}

/**
 * Says what went wrong in the terms of what pbxctl was doing: "cannot reach
 * pbxd" only when connecting to the daemon failed, a file it could not read by name.
 */
export function cliErrorText(e: unknown, target: ApiTarget): string {
  const err = e as NodeJS.ErrnoException;
  const where = target.socketPath ?? target.url ?? '?';
  if (err.syscall === 'connect' || (err.code === 'ECONNREFUSED' && !err.path)) {
    if (err.code === 'EACCES') return cliText('socketDenied', where);
    return cliText('unreachable', where);
  }
  if (err.path && (err.syscall === 'open' || err.syscall === 'read' || err.syscall === 'stat')) {
    if (err.code === 'ENOENT') return cliText('noSuchFile', err.path);
    if (err.code === 'EACCES') return cliText('fileDenied', err.path);
    if (err.code === 'EISDIR') return cliText('isFolder', err.path);
  }
  return err.message ?? String(e);
}
