import http from 'node:http';
import https from 'node:https';

export interface ApiTarget {
  /** Unix control socket on the appliance (no password: its file mode is the access control). */
  socketPath?: string;
  /** Or a remote daemon: base URL and bearer token. */
  url?: string;
  token?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { error?: { code: string; message: string; text?: { en: string; de: string }; remedy?: { en: string; de: string }; details?: unknown } },
  ) {
    super(body.error?.message ?? `HTTP ${status}`);
  }
}

/** A tiny HTTP client for the admin API, over the control socket or TCP. */
export class ApiClient {
  constructor(private readonly target: ApiTarget) {}

  async request<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) || typeof body === 'string' ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload) (headers['content-type'] = contentType), (headers['content-length'] = String(payload.length));
    if (this.target.token) headers.authorization = `Bearer ${this.target.token}`;
    const url = new URL(`/api/v1${path}`, this.target.url ?? 'http://pbxd');
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = mod.request(
        { method, headers, ...(this.target.url ? { host: url.hostname, port: url.port, path: url.pathname + url.search } : { socketPath: this.target.socketPath, path: url.pathname + url.search }) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : {};
            } catch {
              return reject(new Error(`unexpected answer (HTTP ${res.statusCode}): ${text.slice(0, 200)}`));
            }
            if ((res.statusCode ?? 500) >= 400) reject(new ApiError(res.statusCode ?? 500, json as ApiError['body']));
            else resolve(json as T);
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}
