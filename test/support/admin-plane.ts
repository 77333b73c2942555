import http from 'node:http';
import https from 'node:https';

export interface PlainReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

/**
 * One HTTP(S) request from a chosen local address (127.0.0.2, 127.0.0.3, ...:
 * several clients), with exactly the headers given, on a fresh connection.
 */
export function requestFrom(
  url: string,
  opts: { method?: string; from?: string; headers?: Record<string, string>; body?: string; ca?: string } = {},
): Promise<PlainReply> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      {
        host: u.hostname.replace(/^\[|\]$/g, ''),
        port: u.port,
        path: u.pathname + u.search,
        method: opts.method ?? 'GET',
        localAddress: opts.from,
        headers: { ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}), ...opts.headers },
        agent: false,
        ca: opts.ca,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: any = null;
          try {
            json = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode!, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** POST /api/v1/auth/login as a browser script or a tool sends it, from `from`. */
export function loginFrom(apiUrl: string, from: string, name: string, password: string, extra: Record<string, unknown> = {}): Promise<PlainReply> {
  return requestFrom(`${apiUrl}/api/v1/auth/login`, { method: 'POST', from, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password, ...extra }) });
}

/** A sample of a Prometheus text exposition, by name and label text (e.g. 'kind="source"'). */
export function metricValue(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  if (!line) throw new Error(`no sample ${name}{${labels}} in:\n${text.split('\n').filter((l) => l.includes(name)).join('\n')}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}
