import type { ApiTarget } from './client.js';

export type Lang = 'en' | 'de';

/** pbxctl's own messages (the daemon's refusals come with both texts already). */
const texts = {
  unreachable: (where: string) => ({ en: `cannot reach pbxd (${where}): is it running?`, de: `pbxd ist nicht erreichbar (${where}): Läuft der Dienst?` }),
  socketDenied: (where: string) => ({ en: `no permission to use ${where}: run as root or the pbxd user`, de: `Keine Berechtigung für ${where}: als root oder als Benutzer pbxd ausführen` }),
  noSuchFile: (file: string) => ({ en: `cannot read ${file}: no such file`, de: `${file} kann nicht gelesen werden: Die Datei existiert nicht` }),
  fileDenied: (file: string) => ({ en: `cannot read ${file}: permission denied`, de: `${file} kann nicht gelesen werden: Keine Berechtigung` }),
  isFolder: (file: string) => ({ en: `cannot read ${file}: it is a folder, not a file`, de: `${file} kann nicht gelesen werden: Es ist ein Ordner, keine Datei` }),
  unknownCommand: (line: string) => ({ en: `unknown command "${line}"`, de: `Unbekannter Befehl "${line}"` }),
};

export function cliText<K extends keyof typeof texts>(lang: Lang, key: K, ...args: Parameters<(typeof texts)[K]>): string {
  return (texts[key] as (...a: unknown[]) => { en: string; de: string })(...args)[lang];
}

/**
 * Says what went wrong in the terms of what pbxctl was doing: "cannot reach
 * pbxd" only when connecting to the daemon failed, a file it could not read by name.
 */
export function cliErrorText(e: unknown, target: ApiTarget, lang: Lang): string {
  const err = e as NodeJS.ErrnoException;
  const where = target.socketPath ?? target.url ?? '?';
  if (err.syscall === 'connect' || (err.code === 'ECONNREFUSED' && !err.path)) {
    if (err.code === 'EACCES') return cliText(lang, 'socketDenied', where);
    return cliText(lang, 'unreachable', where);
  }
  if (err.path && (err.syscall === 'open' || err.syscall === 'read' || err.syscall === 'stat')) {
    if (err.code === 'ENOENT') return cliText(lang, 'noSuchFile', err.path);
    if (err.code === 'EACCES') return cliText(lang, 'fileDenied', err.path);
    if (err.code === 'EISDIR') return cliText(lang, 'isFolder', err.path);
  }
  return err.message ?? String(e);
}
