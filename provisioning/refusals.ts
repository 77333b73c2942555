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
  PROV_KEY_REQUIRED: entry<D>(403, (d) => ({ en: `The configuration is served only under the site provisioning key: ${d.detail}.`, de: `Die Konfiguration wird nur unter dem Provisionierungsschlüssel des Standorts ausgeliefert: ${d.detail}.` }),
    fixed({ en: 'Set the provisioning URL that `pbxctl provisioning urls` shows for this vendor.', de: 'Stellen Sie die Provisionierungs-URL ein, die `pbxctl provisioning urls` für diesen Hersteller zeigt.' })),
  PROV_TLS_REQUIRED: entry<D>(403, (d) => ({ en: `The configuration is served only over HTTPS: ${d.detail}.`, de: `Die Konfiguration wird nur über HTTPS ausgeliefert: ${d.detail}.` }),
    fixed({ en: 'Set the https:// URL that `pbxctl provisioning urls` shows and give the phone the appliance CA.', de: 'Stellen Sie die https://-URL ein, die `pbxctl provisioning urls` zeigt, und geben Sie dem Telefon die CA der Appliance.' })),
  PROV_DEVICE_LOCKED: entry<D>(403, (d) => ({ en: `This device fetches its configuration from another address: ${d.detail}.`, de: `Dieses Gerät holt seine Konfiguration von einer anderen Adresse: ${d.detail}.` }),
    fixed({ en: 'If the phone really moved, allow its new address on the Devices page (pbxctl provisioning allow MAC) or open an enrolment window.', de: 'Wenn das Telefon wirklich umgezogen ist, erlauben Sie die neue Adresse auf der Geräteseite (pbxctl provisioning allow MAC) oder öffnen Sie ein Anmeldefenster.' })),
  PROV_CLIENT_CERT: entry<D>(403, (d) => ({ en: `This vendor's configuration goes only to a phone with its factory certificate: ${d.detail}.`, de: `Die Konfiguration dieses Herstellers erhält nur ein Telefon mit seinem Werkszertifikat: ${d.detail}.` }),
    fixed({ en: 'The phone must fetch over HTTPS with the certificate its vendor installed; check the installed device CA (pbxctl provisioning vendor-ca list).', de: 'Das Telefon muss über HTTPS mit dem vom Hersteller installierten Zertifikat abrufen; prüfen Sie die installierte Geräte-CA (pbxctl provisioning vendor-ca list).' })),
  PROV_AUTH_REQUIRED: entry<D>(401, (d) => ({ en: `Provisioning credentials required: ${d.detail}.`, de: `Provisionierungs-Zugangsdaten erforderlich: ${d.detail}.` }),
    fixed({ en: 'Set the provisioning user and password that `pbxctl provisioning urls` shows on the phone.', de: 'Stellen Sie am Telefon den Provisionierungsbenutzer und das Passwort ein, die `pbxctl provisioning urls` zeigt.' })),
  PROV_HOST_UNKNOWN: entry<D>(421, (d) => ({ en: `Not a name of this appliance: ${d.detail}.`, de: `Kein Name dieser Appliance: ${d.detail}.` }),
    fixed({ en: 'Phones use an address or a name from provisioning.hostnames.', de: 'Telefone verwenden eine Adresse oder einen Namen aus provisioning.hostnames.' })),
  PROV_ENUMERATION: entry<D>(429, (d) => ({ en: `Too many devices asked for from this address: ${d.detail}.`, de: `Zu viele verschiedene Geräte von dieser Adresse angefragt: ${d.detail}.` }),
    fixed({ en: 'Wait a minute; the admin has been alerted.', de: 'Warten Sie eine Minute; der Administrator wurde benachrichtigt.' })),
  PROV_LICENSE_REQUIRED: entry<D>(403, (d) => ({ en: `No support license free for this phone (${d.detail}); it waits for one.`, de: `Keine Supportlizenz für dieses Telefon frei (${d.detail}); es wartet auf eine.` }),
    fixed({ en: 'Release an unused phone or install a license with more devices; the phone is served at its next request.', de: 'Geben Sie ein ungenutztes Telefon frei oder installieren Sie eine Lizenz mit mehr Geräten; das Telefon wird bei seiner nächsten Anfrage bedient.' })),
});

export type ProvCode = Parameters<typeof provRefuse>[0];
