import { defineRefusals, deParen, entry, fixed } from '../kernel/refusal.js';

/** The clients that open a session for a user, and the per-user code each needs. */
export const REQUIRED_CODE = {
  desktop: 'clientbundle',
  app: 'clientbundle',
  tapi: 'clientbundle',
  console: 'vap',
} as const;
export type ClientKind = keyof typeof REQUIRED_CODE;
export const CLIENT_KINDS = Object.keys(REQUIRED_CODE) as ClientKind[];

const KIND_NAMES: Record<ClientKind, { en: string; de: string }> = {
  desktop: { en: 'the desktop client', de: 'der Desktop-Client' },
  app: { en: 'the mobile app', de: 'die Mobile App' },
  tapi: { en: 'the TAPI driver', de: 'der TAPI-Treiber' },
  console: { en: 'the operator console', de: 'der Vermittlungsarbeitsplatz' },
};

export const refuse = defineRefusals({
  SESS_AUTH_INVALID: entry(401, fixed({ en: 'Unknown user, or wrong token or password.', de: 'Unbekannter Benutzer oder falsches Token bzw. Passwort.' }),
    fixed({ en: 'Check the user name and the client token the administrator issued.', de: 'Prüfen Sie den Benutzernamen und das vom Administrator ausgestellte Client-Token.' })),
  SESS_AUTH_TIMEOUT: entry<{ seconds: number }>(401,
    (d) => ({ en: `No hello message within ${d.seconds} seconds.`, de: `Keine Hello-Nachricht innerhalb von ${d.seconds} Sekunden.` }),
    fixed({ en: 'Send {"type":"hello",...} right after connecting.', de: 'Senden Sie {"type":"hello",...} direkt nach dem Verbinden.' })),
  SESS_AUTH_RATE_LIMITED: entry<{ retryAfterSeconds: number }>(429,
    (d) => ({ en: `Too many failed client logins from this address; try again in ${d.retryAfterSeconds} seconds.`, de: `Zu viele fehlgeschlagene Client-Anmeldungen von dieser Adresse; versuchen Sie es in ${d.retryAfterSeconds} Sekunden erneut.` }),
    fixed({ en: 'Check the token or password configured in the client.', de: 'Prüfen Sie das im Client eingetragene Token bzw. Passwort.' })),
  SESS_KIND_INVALID: entry<{ kind: string }>(400,
    (d) => ({ en: `"${d.kind}" is not a client kind; use ${CLIENT_KINDS.join(', ')}.`, de: `"${d.kind}" ist keine Client-Art; verwenden Sie ${CLIENT_KINDS.join(', ')}.` }),
    fixed({ en: 'Update the client.', de: 'Aktualisieren Sie den Client.' })),
  SESS_NO_LICENSE: entry<{ userName: string; kind: string; code: string }>(403,
    (d) => ({ en: `User "${d.userName}" has no ${d.code} license, which ${KIND_NAMES[d.kind as ClientKind]?.en ?? d.kind} needs.`, de: `Benutzer "${d.userName}" hat keine ${d.code}-Lizenz, die ${KIND_NAMES[d.kind as ClientKind]?.de ?? d.kind} benötigt.` }),
    (d) => ({ en: `Ask the administrator to assign the ${d.code} license to "${d.userName}", then connect again.`, de: `Bitten Sie den Administrator, "${d.userName}" die ${d.code}-Lizenz zuzuweisen, und verbinden Sie sich erneut.` })),
  SESS_TOO_MANY: entry<{ userName: string; limit: number }>(429,
    (d) => ({ en: `User "${d.userName}" already has ${d.limit} of ${d.limit} client sessions open.`, de: `Benutzer "${d.userName}" hat bereits ${d.limit} von ${d.limit} Client-Sitzungen geöffnet.` }),
    fixed({ en: 'Close a client on another device (or ask the administrator to end a session), then connect again.', de: 'Schließen Sie einen Client auf einem anderen Gerät (oder lassen Sie eine Sitzung beenden) und verbinden Sie sich erneut.' })),
  SESS_PROTOCOL: entry<{ problem: string }>(400,
    (d) => ({ en: `Bad message: ${d.problem}.`, de: `Ungültige Nachricht${deParen(d.problem)}.` }),
    fixed({ en: 'Update the client; it speaks a protocol pbxd does not understand.', de: 'Aktualisieren Sie den Client; er spricht ein Protokoll, das pbxd nicht versteht.' })),
  SESS_USER_NOT_ACTIVE: entry<{ userName: string }>(403,
    (d) => ({ en: `User "${d.userName}" is not active (waiting for a free user seat or approval).`, de: `Benutzer "${d.userName}" ist nicht aktiv (wartet auf einen freien Benutzerplatz oder die Freigabe).` }),
    fixed({ en: 'Ask the administrator to approve the user.', de: 'Bitten Sie den Administrator, den Benutzer freizugeben.' })),
  SESS_LICENSE_REMOVED: entry<{ userName: string; code: string }>(403,
    (d) => ({ en: `User "${d.userName}" no longer holds the ${d.code} license; the session was ended.`, de: `Benutzer "${d.userName}" hat die ${d.code}-Lizenz nicht mehr; die Sitzung wurde beendet.` }),
    (d) => ({ en: `Ask the administrator to assign ${d.code} again, then connect again.`, de: `Bitten Sie den Administrator, ${d.code} erneut zuzuweisen, und verbinden Sie sich erneut.` })),
  SESS_USER_REMOVED: entry<{ userName: string }>(403,
    (d) => ({ en: `User "${d.userName}" was deleted or is no longer active; the session was ended.`, de: `Benutzer "${d.userName}" wurde gelöscht oder ist nicht mehr aktiv; die Sitzung wurde beendet.` }),
    fixed({ en: 'Ask the administrator.', de: 'Wenden Sie sich an den Administrator.' })),
  SESS_ENDED_BY_ADMIN: entry<{ by: string }>(403,
    (d) => ({ en: `Administrator "${d.by}" ended this session.`, de: `Administrator "${d.by}" hat diese Sitzung beendet.` }),
    fixed({ en: 'Connect again, or ask the administrator why.', de: 'Verbinden Sie sich erneut oder fragen Sie den Administrator nach dem Grund.' })),
  SESS_CREDENTIALS_REVOKED: entry<{ userName: string }>(401,
    (d) => ({ en: `The token or password this session of "${d.userName}" used was revoked or changed.`, de: `Das Token bzw. Passwort, mit dem sich "${d.userName}" angemeldet hat, wurde widerrufen oder geändert.` }),
    fixed({ en: 'Log in with the new credentials.', de: 'Melden Sie sich mit den neuen Zugangsdaten an.' })),
  SESS_NOT_FOUND: entry<{ id: string }>(404,
    (d) => ({ en: `There is no client session ${d.id} (it may have ended already).`, de: `Es gibt keine Client-Sitzung ${d.id} (sie ist vielleicht schon beendet).` }),
    fixed({ en: 'List the sessions again.', de: 'Lassen Sie die Sitzungen erneut auflisten.' })),
  SESS_TOKEN_NOT_FOUND: entry<{ id: number }>(404,
    (d) => ({ en: `There is no client token ${d.id}.`, de: `Es gibt kein Client-Token ${d.id}.` }),
    fixed({ en: "List the user's client tokens again.", de: 'Lassen Sie die Client-Tokens des Benutzers erneut auflisten.' })),
});
