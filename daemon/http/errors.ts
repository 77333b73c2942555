import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../kernel/log.js';
import { isRefusal, refuse, type Refusal } from '../kernel/refusal.js';
import { MAX_LICENSE_BYTES } from '../licensing/format.js';

/** body-parser's and the router's own errors become refusals with our codes. */
function fromBodyParser(err: { type?: string; limit?: number; length?: number }, req: Request): Refusal | null {
  if (err.type === 'entity.too.large') {
    return /\/license(\/|$|\?)/.test(req.originalUrl) ? refuse('LIC_TOO_LARGE', { bytes: err.length ?? 0, limit: MAX_LICENSE_BYTES }) : refuse('REQ_TOO_LARGE', { limit: err.limit ?? 0 });
  }
  if (err.type === 'entity.parse.failed') return refuse('REQ_INVALID', { field: 'body', problem: 'not valid JSON' });
  if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') return refuse('REQ_INVALID', { field: 'body', problem: 'unsupported encoding' });
  if (err.type === 'request.aborted') return refuse('REQ_INVALID', { field: 'body', problem: 'the request was aborted' });
  // The router and body-parser mark other client mistakes with a 4xx status and no type:
  // a path that is not valid percent-encoding (URIError), a body that does not inflate
  // as its Content-Encoding says. They are the client's fault, not ours (found by the fuzz test).
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (err instanceof URIError) return refuse('REQ_INVALID', { field: 'path', problem: 'not valid percent-encoding' });
    return refuse('REQ_INVALID', { field: 'body', problem: 'could not be read (its Content-Encoding or length is broken)' });
  }
  return null;
}

/**
 * One envelope for every error: `{ error: Refusal }`. Client mistakes are
 * logged at info, our own faults at error (with a request id, not the body).
 */
export function errorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const refusal = isRefusal(err) ? err : fromBodyParser(err as object, req);
    if (refusal) {
      log.info('request refused', { method: req.method, path: req.path, code: refusal.code, status: refusal.status });
      if (!res.headersSent) res.status(refusal.status).json({ error: refusal.toJSON() });
      return;
    }
    log.error('request failed', { method: req.method, path: req.path, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    if (!res.headersSent)
      res.status(500).json({ error: { code: 'INTERNAL', status: 500, message: 'Internal error; nothing was changed. The log has details.', text: { en: 'Internal error; nothing was changed.', de: 'Interner Fehler; es wurde nichts geändert.' }, remedy: { en: 'Try again; if it persists, contact support with the log.', de: 'Versuchen Sie es erneut; bleibt der Fehler, wenden Sie sich mit dem Protokoll an den Support.' }, details: {} } });
  };
}
