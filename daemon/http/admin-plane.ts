import { networkInterfaces } from 'node:os';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../config.js';
import { defineRefusals, entry, fixed } from '../kernel/refusal.js';

export const refuseHttp = defineRefusals({
  REQ_UNSUPPORTED_MEDIA_TYPE: entry<{ contentType: string }>(415,
    (d) => ({ en: `This route takes application/json, not "${d.contentType}".`, de: `Diese Schnittstelle erwartet application/json, nicht "${d.contentType}".` }),
    fixed({ en: 'Send the body as JSON with Content-Type: application/json.', de: 'Senden Sie den Inhalt als JSON mit Content-Type: application/json.' })),
  REQ_HOST_UNKNOWN: entry<{ host: string }>(421,
    (d) => ({ en: `This appliance does not answer to the host name "${d.host}".`, de: `Diese Anlage antwortet nicht unter dem Hostnamen "${d.host}".` }),
    fixed({ en: 'Use one of the appliance\'s configured names (http.hostnames, provisioning.hostnames) or its IP address.', de: 'Verwenden Sie einen der konfigurierten Namen der Anlage (http.hostnames, provisioning.hostnames) oder ihre IP-Adresse.' })),
});

/** application/json, optionally with a UTF-8 charset: anything else is a body a cross-site form could send. */
const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*("?)utf-8\2\s*)?$/i;

/** Routes that take other bodies too (license files, CSV); they name their own types. */
const OTHER_BODIES = new Set(['/license', '/license/stage', '/users/import']);

/**
 * Every other route with a body takes JSON only: a form or text/plain post
 * from a foreign page (which needs no CORS preflight) is refused with 415.
 */
export function strictJson(req: Request, _res: Response, next: NextFunction): void {
  const type = req.headers['content-type'];
  const hasBody = type !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody || OTHER_BODIES.has(req.path) || JSON_TYPE.test(type ?? '')) return next();
  throw refuseHttp('REQ_UNSUPPORTED_MEDIA_TYPE', { contentType: String(type ?? '').slice(0, 100) });
}

/**
 * The host names the admin listener answers to: the configured names, localhost
 * and the appliance's own addresses (re-read every minute: DHCP). A page on a
 * foreign name that resolves here (DNS rebinding) is refused before any route.
 */
export class HostCheck {
  private addresses = new Set<string>();
  private readAt = 0;
  /** The configured names (http.* and provisioning.hostnames change only with a restart). */
  private readonly names: Set<string>;

  constructor(config: Pick<Config, 'http' | 'provisioning'>) {
    const bound = config.http.host === '0.0.0.0' || config.http.host === '::' ? [] : [config.http.host];
    this.names = new Set([...config.http.hostnames, ...config.provisioning.hostnames, ...bound].map((n) => n.toLowerCase().replace(/^\[|\]$/g, '')));
  }

  /** The host name of the Host header (lower case, no port, IPv6 without brackets); '' if absent. */
  static hostOf(req: IncomingMessage): string {
    return HostCheck.hostOfHeader(String(req.headers.host ?? ''));
  }

  /** The name or address a Host header names, without port, brackets or a trailing dot; '' if it names none. */
  static hostOfHeader(header: string): string {
    const raw = header.trim().toLowerCase();
    const m = /^\[([0-9a-f:.]+)\](:\d+)?$/.exec(raw) ?? /^([^:]*)(:\d+)?$/.exec(raw);
    return m ? m[1]!.replace(/\.$/, '') : '';
  }

  allows(req: IncomingMessage): boolean {
    const host = HostCheck.hostOf(req);
    if (!host) return false;
    if (host === 'localhost' || /^127(\.\d{1,3}){3}$/.test(host) || this.names.has(host)) return true;
    if (Date.now() - this.readAt > 60_000) this.readAddresses();
    return this.addresses.has(host);
  }

  private readAddresses(): void {
    this.readAt = Date.now();
    this.addresses = new Set(HostCheck.ownAddresses());
  }

  /** The appliance's own addresses (loopback first; IPv6 link-local ones without their zone). */
  static ownAddresses(): string[] {
    const all = new Set<string>(['127.0.0.1', '::1']);
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (!a.address.includes('%') && !/^fe80:/i.test(a.address)) all.add(a.address.toLowerCase());
    return [...all];
  }
}

/**
 * The plain HTTP listener of an HTTPS admin plane: every request is sent to
 * the same path over HTTPS (308 keeps the method). The Host passed the gate,
 * so the redirect cannot point elsewhere.
 */
export function redirectToHttps(httpsPort: number) {
  return (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    const host = HostCheck.hostOf(req);
    const url = `https://${host.includes(':') ? `[${host}]` : host}${httpsPort === 443 ? '' : `:${httpsPort}`}${(req.url ?? '/').startsWith('/') ? req.url : '/'}`;
    res.writeHead(308, { location: url, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', connection: 'close' }).end(`Use ${url}\n`);
  };
}
