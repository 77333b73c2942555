import { defineRefusals, deParen, entry, fixed, Refusal } from '../kernel/refusal.js';
import { isLoopbackHttp } from '../config.js';

const offlineRemedy = {
  en: 'Check the appliance\'s route to the activation server (activation.url), or install the license file manually (upload or paste).',
  de: 'Prüfen Sie die Verbindung der Anlage zum Aktivierungsserver (activation.url) oder installieren Sie die Lizenzdatei manuell (Hochladen oder Einfügen).',
};

export const refuse = defineRefusals({
  ACT_NOT_CONFIGURED: entry(409, fixed({ en: 'No activation server is configured (activation.url is empty).', de: 'Es ist kein Aktivierungsserver konfiguriert (activation.url ist leer).' }),
    fixed({ en: 'Set activation.url, or install the license file manually (upload or paste).', de: 'Setzen Sie activation.url oder installieren Sie die Lizenzdatei manuell (Hochladen oder Einfügen).' })),
  ACT_UNREACHABLE: entry<{ url: string; reason: string }>(502,
    (d) => ({ en: `The activation server ${d.url} cannot be reached (${d.reason}).`, de: `Der Aktivierungsserver ${d.url} ist nicht erreichbar${deParen(d.reason)}.` }),
    fixed(offlineRemedy)),
  ACT_TIMEOUT: entry<{ url: string; timeoutMs: number }>(504,
    (d) => ({ en: `The activation server ${d.url} did not answer within ${d.timeoutMs} ms.`, de: `Der Aktivierungsserver ${d.url} hat nicht innerhalb von ${d.timeoutMs} ms geantwortet.` }),
    fixed(offlineRemedy)),
  ACT_SERVER_ERROR: entry<{ url: string; status: number }>(502,
    (d) => ({ en: `The activation server ${d.url} answered with an error (HTTP ${d.status}).`, de: `Der Aktivierungsserver ${d.url} hat mit einem Fehler geantwortet (HTTP ${d.status}).` }),
    fixed({ en: 'Try again later; if it persists, contact the vendor or install the license file manually.', de: 'Versuchen Sie es später erneut; bleibt der Fehler, wenden Sie sich an den Hersteller oder installieren Sie die Lizenzdatei manuell.' })),
  ACT_BAD_ANSWER: entry<{ url: string; problem: string }>(502,
    (d) => ({ en: `The activation server ${d.url} sent an answer pbxd does not understand (${d.problem}).`, de: `Der Aktivierungsserver ${d.url} hat eine unverständliche Antwort gesendet${deParen(d.problem)}.` }),
    fixed({ en: 'Check activation.url; it must point at the vendor\'s activation server.', de: 'Prüfen Sie activation.url; sie muss auf den Aktivierungsserver des Herstellers zeigen.' })),
  ACT_REDIRECTED: entry<{ url: string; status: number }>(502,
    (d) => ({ en: `The activation server ${d.url} answered with a redirect (HTTP ${d.status}); pbxd does not follow redirects, so nothing was sent elsewhere.`, de: `Der Aktivierungsserver ${d.url} hat mit einer Umleitung geantwortet (HTTP ${d.status}); pbxd folgt keinen Umleitungen, es wurde nichts an eine andere Adresse gesendet.` }),
    fixed({ en: 'Set activation.url to the server\'s final https:// address.', de: 'Setzen Sie activation.url auf die endgültige https://-Adresse des Servers.' })),
  ACT_INSECURE_URL: entry<{ url: string }>(400,
    (d) => ({ en: `The activation server address ${d.url} is not https://; pbxd sends the system id and request keys only over HTTPS.`, de: `Die Adresse des Aktivierungsservers ${d.url} ist nicht https://; pbxd sendet System-ID und Anforderungsschlüssel nur über HTTPS.` }),
    fixed({ en: 'Set activation.url to an https:// address.', de: 'Setzen Sie activation.url auf eine https://-Adresse.' })),
  ACT_REQUEST_KEY_INVALID: entry(400, fixed({ en: 'A request key has exactly 10 digits.', de: 'Ein Anforderungsschlüssel hat genau 10 Ziffern.' }),
    fixed({ en: 'Enter the 10-digit request key from the license certificate.', de: 'Geben Sie den 10-stelligen Anforderungsschlüssel vom Lizenzzertifikat ein.' })),
  ACT_REQUEST_KEY_UNKNOWN: entry<{ requestKey: string }>(404,
    (d) => ({ en: `The activation server does not know the request key ${d.requestKey}.`, de: `Der Aktivierungsserver kennt den Anforderungsschlüssel ${d.requestKey} nicht.` }),
    fixed({ en: 'Check the key on the license certificate; if it is right, contact the vendor.', de: 'Prüfen Sie den Schlüssel auf dem Lizenzzertifikat; stimmt er, wenden Sie sich an den Hersteller.' })),
  ACT_REQUEST_KEY_REFUSED: entry<{ requestKey: string; status: number; serverSaid: string }>(409,
    (d) => ({
      en: `The activation server refused the request key ${d.requestKey} (HTTP ${d.status}).${d.serverSaid ? ` The server said: ${d.serverSaid}` : ''}`,
      de: `Der Aktivierungsserver hat den Anforderungsschlüssel ${d.requestKey} abgelehnt (HTTP ${d.status}).${d.serverSaid ? ` Der Server meldete: ${d.serverSaid}` : ''}`,
    }),
    fixed({ en: 'Contact the vendor with the request key and this appliance\'s system id.', de: 'Wenden Sie sich mit dem Anforderungsschlüssel und der System-ID dieser Anlage an den Hersteller.' })),
});

export const REQUEST_KEY = /^\d{10}$/;

/**
 * Text from the remote server, shown only as a quoted detail after pbxd's own
 * words: one line, printable, at most 200 characters, in quotes.
 */
function quoteRemote(text: unknown): string {
  if (typeof text !== 'string' || text.trim() === '') return '';
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]+/g, ' ').replace(/\s+/g, ' ').trim();
  return JSON.stringify(clean.length > 200 ? clean.slice(0, 199) + '…' : clean);
}

/** The activation protocol, version 1 (served by tools/activation-server.ts). */
type CheckAnswer = ({ status: 'none' } | { status: 'license'; license: string }) & {
  /** The vendor's current revocation list (signed), with either answer. */
  revocations?: string;
};

/**
 * The daemon's side of the activation protocol. It only fetches: whatever
 * comes back is a license file like any upload and goes through the same
 * verifier, so a tampered or foreign answer is refused and changes nothing.
 */
export class ActivationClient {
  constructor(private readonly opts: () => { url: string; timeoutMs: number }) {}

  get configured(): boolean {
    return this.opts().url !== '';
  }

  async check(q: { systemId: string; licenseId: string | null; issuedAt: string | null }): Promise<CheckAnswer> {
    const { status, json, url } = await this.post('/v1/check', q);
    if (status !== 200) throw refuse('ACT_BAD_ANSWER', { url, problem: `HTTP ${status}` });
    const extra = typeof json.revocations === 'string' ? { revocations: json.revocations as string } : {};
    if (json.status === 'none') return { status: 'none', ...extra };
    if (json.status === 'license' && typeof json.license === 'string') return { status: 'license', license: json.license, ...extra };
    throw refuse('ACT_BAD_ANSWER', { url, problem: 'neither "none" nor a license' });
  }

  /** Exchange a request key for a provisional license file (text). */
  async request(q: { systemId: string; requestKey: string }): Promise<string> {
    if (!REQUEST_KEY.test(q.requestKey)) throw refuse('ACT_REQUEST_KEY_INVALID');
    const { status, json, url } = await this.post('/v1/request', q);
    if (status === 404) throw refuse('ACT_REQUEST_KEY_UNKNOWN', { requestKey: q.requestKey });
    if (status === 409 || status === 400) throw refuse('ACT_REQUEST_KEY_REFUSED', { requestKey: q.requestKey, status, serverSaid: quoteRemote(json.error?.message) });
    if (status !== 200 || json.status !== 'license' || typeof json.license !== 'string') throw refuse('ACT_BAD_ANSWER', { url, problem: `HTTP ${status}` });
    return json.license;
  }

  private async post(path: string, body: unknown): Promise<{ status: number; json: any; url: string }> {
    const { url: base, timeoutMs } = this.opts();
    if (!base) throw refuse('ACT_NOT_CONFIGURED');
    if (!base.startsWith('https://') && !isLoopbackHttp(base)) throw refuse('ACT_INSECURE_URL', { url: base });
    const url = base.replace(/\/+$/, '') + path;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
      // A redirect would re-post the system id and request key to wherever it points: never followed.
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel();
        throw refuse('ACT_REDIRECTED', { url: base, status: res.status });
      }
      text = await res.text();
    } catch (e) {
      if (e instanceof Refusal) throw e;
      const err = e as Error & { cause?: { code?: string } };
      if (err.name === 'TimeoutError' || err.name === 'AbortError') throw refuse('ACT_TIMEOUT', { url: base, timeoutMs });
      throw refuse('ACT_UNREACHABLE', { url: base, reason: err.cause?.code ?? err.message });
    }
    if (res.status >= 500) throw refuse('ACT_SERVER_ERROR', { url: base, status: res.status });
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      throw refuse('ACT_BAD_ANSWER', { url: base, problem: 'not JSON' });
    }
    if (!json || typeof json !== 'object') throw refuse('ACT_BAD_ANSWER', { url: base, problem: 'not a JSON object' });
    return { status: res.status, json, url: base };
  }
}
