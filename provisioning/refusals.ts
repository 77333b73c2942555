import { defineRefusals, entry, fixed } from '../daemon/kernel/refusal.js';

type D = { detail: string };
const check = fixed({ en: 'Check the provisioning URL configured in the device (see the README).', de: 'Prüfen Sie die im Gerät eingestellte Provisionierungs-URL (siehe README).' });

/** What the provisioning ports answer when they do not serve a configuration. */
export const provRefuse = defineRefusals({
  PROV_NOT_FOUND: entry<D>(404, (d) => ({ en: `Not found: ${d.detail}.`, de: `Nicht gefunden: ${d.detail}.` }), check),
  PROV_BAD_PATH: entry<D>(400, (d) => ({ en: `Refused path: ${d.detail}.`, de: `Pfad abgelehnt: ${d.detail}.` }), check),
  PROV_BAD_MAC: entry<D>(400, (d) => ({ en: `Refused: ${d.detail}.`, de: `Abgelehnt: ${d.detail}.` }), check),
  PROV_MAC_MISMATCH: entry<D>(400, (d) => ({ en: `The request names two different MACs: ${d.detail}.`, de: `Die Anfrage nennt zwei verschiedene MACs: ${d.detail}.` }), check),
  PROV_VENDOR_MISMATCH: entry<D>(400, (d) => ({ en: `Device type does not match the device table: ${d.detail}.`, de: `Gerätetyp passt nicht zur Gerätetabelle: ${d.detail}.` }),
    fixed({ en: 'Delete the device entry and let it register again.', de: 'Löschen Sie den Geräteeintrag und lassen Sie das Gerät sich neu melden.' })),
  PROV_METHOD: entry<D>(405, (d) => ({ en: `Method not allowed: ${d.detail}.`, de: `Methode nicht erlaubt: ${d.detail}.` }), check),
  PROV_CONTENT_TYPE: entry<D>(415, (d) => ({ en: `Unsupported content type: ${d.detail}.`, de: `Nicht unterstützter Inhaltstyp: ${d.detail}.` }), check),
  PROV_TOO_LARGE: entry<D>(413, (d) => ({ en: `Request body too large: ${d.detail}.`, de: `Anfrageinhalt zu groß: ${d.detail}.` }), check),
  PROV_XML_DOCTYPE: entry<D>(400, (d) => ({ en: `Refused XML: ${d.detail}.`, de: `XML abgelehnt: ${d.detail}.` }), check),
  PROV_XML_MALFORMED: entry<D>(400, (d) => ({ en: `Refused XML: ${d.detail}.`, de: `XML abgelehnt: ${d.detail}.` }), check),
  PROV_WPI_INVALID: entry<D>(400, (d) => ({ en: `Not a valid WPI message: ${d.detail}.`, de: `Keine gültige WPI-Nachricht: ${d.detail}.` }), check),
  PROV_WPI_NONCE: entry<D>(400, (d) => ({ en: `Refused WPI message: ${d.detail}.`, de: `WPI-Nachricht abgelehnt: ${d.detail}.` }), check),
  PROV_RATE_LIMITED: entry<D>(429, (d) => ({ en: `Too many unknown requests from this address: ${d.detail}.`, de: `Zu viele unbekannte Anfragen von dieser Adresse: ${d.detail}.` }),
    fixed({ en: 'Wait a minute; check devices that request files that do not exist.', de: 'Warten Sie eine Minute; prüfen Sie Geräte, die nicht vorhandene Dateien anfordern.' })),
  PROV_OVERLOADED: entry<D>(503, (d) => ({ en: `Busy: ${d.detail}; try again shortly.`, de: `Ausgelastet: ${d.detail}; bitte gleich erneut versuchen.` }),
    fixed({ en: 'Phones retry by themselves after Retry-After seconds.', de: 'Telefone versuchen es nach Retry-After Sekunden selbst erneut.' })),
  PROV_UNKNOWN_DEVICE: entry<D>(404, (d) => ({ en: `Unknown device: ${d.detail}.`, de: `Unbekanntes Gerät: ${d.detail}.` }),
    fixed({ en: 'Assign the device to a user (pbxctl devices assign MAC USER).', de: 'Weisen Sie das Gerät einem Benutzer zu (pbxctl devices assign MAC BENUTZER).' })),
  PROV_UNASSIGNED: entry<D>(404, (d) => ({ en: `Device not assigned: ${d.detail}.`, de: `Gerät nicht zugewiesen: ${d.detail}.` }),
    fixed({ en: 'Assign the device to a user (pbxctl devices assign MAC USER).', de: 'Weisen Sie das Gerät einem Benutzer zu (pbxctl devices assign MAC BENUTZER).' })),
  PROV_BLOCKED: entry<D>(403, (d) => ({ en: `Device blocked: ${d.detail}.`, de: `Gerät gesperrt: ${d.detail}.` }),
    fixed({ en: 'An admin can unblock it (pbxctl devices unblock MAC).', de: 'Ein Administrator kann die Sperre aufheben (pbxctl devices unblock MAC).' })),
  PROV_SUSPICIOUS: entry<D>(403, (d) => ({ en: `Refused: ${d.detail}.`, de: `Abgelehnt: ${d.detail}.` }),
    fixed({ en: 'A phone asks with its own User-Agent; other requests for a configuration are recorded in the provisioning history.', de: 'Ein Telefon fragt mit seinem eigenen User-Agent; andere Anfragen nach einer Konfiguration werden im Provisionierungsverlauf festgehalten.' })),
  PROV_LICENSE_REQUIRED: entry<D>(403, (d) => ({ en: `No support license free for this phone (${d.detail}); it waits for one.`, de: `Keine Supportlizenz für dieses Telefon frei (${d.detail}); es wartet auf eine.` }),
    fixed({ en: 'Release an unused phone or install a license with more devices; the phone is served at its next request.', de: 'Geben Sie ein ungenutztes Telefon frei oder installieren Sie eine Lizenz mit mehr Geräten; das Telefon wird bei seiner nächsten Anfrage bedient.' })),
});

export type ProvCode = Parameters<typeof provRefuse>[0];
