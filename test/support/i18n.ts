/**
 * Finds words of the other language in a text: what the i18n tests flag.
 * Values (names, codes, numbers) are quoted or code-like and do not count.
 */
const ENGLISH = new Set(
  'the is are of and does not already exists exist must be with to for has have this that which your you please only cannot could would from than least most required invalid missing found there its it or by staged user license licenses no yes on one any all none should will can may been being into out when while before after than but per registered deleted created approved changes change applied seats sessions session devices device first last next enabled never still written ended revoked intact rows changed channels licensed configured waiting blocked unassigned active pending yes running failed give needs folder file'.split(' '),
);
const GERMAN = new Set('der die das und nicht ist sind eine ein einen einem einer sie bitte für mit von zu auf wird wurde werden noch kein keine oder bereits gibt'.split(' '));

/** The words of a text outside quotes, code-like tokens (CODE_NAMES, paths, key.names, numbers) removed. */
export function words(text: string): string[] {
  const outsideQuotes = text
    .replace(/"[^"]*"|„[^“]*“|'[^']*'|`[^`]*`/g, ' ')
    .replace(/\bpbxctl\b[^)\n;:]*/g, ' ') // a command line to type
    .replace(/\S*\/\S*/g, ' ') // paths and URLs
    .replace(/\b\w+(?:[.-]\w+)+\b/g, ' '); // dotted or dashed names: jobs.backup.enabled, devices.cisco, token-revoke
  return outsideQuotes
    .split(/[\s,.;:!?()[\]{}→–—/]+/)
    .filter((w) => w && !/[\d_@=<>#*\\]/.test(w) && !/^[A-Z]{2,}$/.test(w) && !/^(pbxctl|pbxd|systemctl|activation\.url)$/i.test(w))
    .map((w) => w.toLowerCase());
}

export function foreignWords(text: string, lang: 'en' | 'de'): string[] {
  const foreign = lang === 'de' ? ENGLISH : GERMAN;
  return words(text).filter((w) => foreign.has(w) || (lang === 'en' && /[äöüß]/.test(w)));
}

