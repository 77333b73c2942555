import { defineMessages } from '../kernel/messages.js';

/** What became of a provisioning request, as the history and the live feed show it. */
export type Outcome = 'served' | 'refused_license' | 'unknown' | 'blocked' | 'rejected';

/** The outcome's name, e.g. a column's value or the feed's heading. */
export const outcomeWord = defineMessages({
  'outcome.served': { en: 'Served', de: 'Ausgeliefert' },
  'outcome.refused_license': { en: 'Refused: no license', de: 'Abgelehnt: keine Lizenz' },
  'outcome.unknown': { en: 'Unknown device', de: 'Unbekanntes Gerät' },
  'outcome.blocked': { en: 'Blocked', de: 'Gesperrt' },
  'outcome.rejected': { en: 'Rejected', de: 'Zurückgewiesen' },
});

/**
 * The provisioning outcomes, one text per language. Values that are names
 * (a MAC, a license code, a file) are quoted in German, where they sit among German words.
 */
export const outcomeMessage = defineMessages({
  'served': { en: 'configuration served', de: 'Konfiguration ausgeliefert' },
  'served.step': { en: 'configuration served ({step})', de: 'Konfiguration ausgeliefert (Schritt "{step}")' },
  'served.licensed': { en: 'configuration served; took a {license} license', de: 'Konfiguration ausgeliefert; Lizenz "{license}" belegt' },
  'served.step.licensed': { en: 'configuration served ({step}); took a {license} license', de: 'Konfiguration ausgeliefert (Schritt "{step}"); Lizenz "{license}" belegt' },
  'refused.license': { en: 'waiting for license ({license})', de: 'wartet auf eine Lizenz "{license}"' },
  'refused.license.used': { en: 'waiting for license ({license}: {used} of {quota} in use)', de: 'wartet auf eine Lizenz "{license}" ({used} von {quota} belegt)' },
  'refused.license.queue': {
    en: 'waiting for license ({license}: {used} of {quota} in use, {ahead} waiting longer)',
    de: 'wartet auf eine Lizenz "{license}" ({used} von {quota} belegt, {ahead} warten schon länger)',
  },
  'refused.blocked': { en: 'blocked by an admin', de: 'von einem Administrator gesperrt' },
  'refused.unassigned': { en: 'no user assigned', de: 'kein Benutzer zugewiesen' },
  'refused.unknown': { en: 'not in the device table', de: 'nicht in der Gerätetabelle' },
  'unknown.recorded': { en: 'recorded as unassigned', de: 'als Gerät ohne Benutzer erfasst' },
  'unknown.bounded': { en: 'not recorded: {limit} unassigned devices from {ip} already', de: 'nicht erfasst: schon {limit} Geräte ohne Benutzer von {ip}' },
  'unknown.notRecorded': { en: 'not recorded: trust list or signed file request', de: 'nicht erfasst: Anfrage nach einer Vertrauensliste oder signierten Datei' },
  'unknown.noAgent': { en: 'not recorded: no User-Agent of the vendor', de: 'nicht erfasst: kein User-Agent des Herstellers' },
  // A refusal of the provisioning server; its detail is a protocol's own English, named by the refusal's code in German.
  'rejected': { en: '{refusal}: {detail}', de: 'Anfrage abgelehnt ({refusal})' },
  'rejected.foreign': { en: '{step}: {mac}', de: 'Anfrage eines fremden Geräts beendet ({step} "{mac}")' },
  'rejected.noAgent': {
    en: "suspicious: {mac}'s configuration asked for without the phone's User-Agent ({agent})",
    de: 'verdächtig: Konfiguration von "{mac}" ohne den User-Agent des Telefons angefordert ("{agent}")',
  },
});

/** A provisioning outcome's code: one of the above, or an alert's (alert.*, provisioning/security/alerts.ts). */
export type OutcomeCode = Parameters<typeof outcomeMessage>[0] | `alert.${string}`;
