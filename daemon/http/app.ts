import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Core } from '../core/core.js';
import { refuse, refusalCodes } from '../kernel/refusal.js';
import { messageCatalogue } from '../kernel/messages.js';
import { errorHandler } from './errors.js';
import { openApiDocument, referencePage, routesOf } from './openapi.js';
import { appRoot } from '../config.js';
import { strictJson } from './admin-plane.js';
import { requireAdmin } from './auth.js';
import type { Feature } from '../feature.js';
import { authRoutes } from './routes/auth.js';
import { licenseRoutes } from './routes/license.js';
import { auditRoutes } from './routes/audit.js';
import { devRoutes } from './routes/dev.js';
import { userRoutes } from './routes/users.js';
import { lifecycleRoutes } from './routes/lifecycle.js';
import { overviewRoutes } from './routes/overview.js';
import { devicesRoutes } from './routes/devices.js';

/**
 * The API routes anyone may call; every other route under /api/v1 needs an
 * admin (default deny). Outside the API: the operations endpoints of the
 * health feature (/healthz and /readyz open, /metrics with its own rule), the
 * web UI's static files, and the upgrades of socket.io and /ws/client, which
 * authenticate in their own handshake.
 */
const publicApi = new Set(['POST /auth/login', 'GET /openapi.json', 'GET /reference', 'GET /refusals']);

/**
 * The express application behind the admin API and the web UI: the one place
 * where routes are mounted. Features contribute routers; this file mounts them
 * behind the admin check.
 */
export function createApp(core: Core, features: readonly Feature[]): express.Express {
  const routers = [
    authRoutes(core),
    licenseRoutes(core),
    auditRoutes(core),
    userRoutes(core),
    lifecycleRoutes(core),
    overviewRoutes(core),
    devicesRoutes(core),
    ...(core.devClock ? [devRoutes(core)] : []),
    ...features.flatMap((f) => f.routes?.() ?? []),
  ];
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Behind a local reverse proxy: its X-Forwarded-Proto makes req.secure (Secure cookies, HSTS), its X-Forwarded-For req.ip (login throttling).
  const { trustProxy, hstsSeconds } = core.config.http;
  app.set('trust proxy', trustProxy === '' ? false : trustProxy.split(',').map((s) => s.trim()).filter(Boolean));
  app.use((req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-store');
    if (req.secure && hstsSeconds > 0) res.setHeader('Strict-Transport-Security', `max-age=${hstsSeconds}`);
    next();
  });
  // Access log at debug level and a count by status class. The path only: query strings may carry secrets.
  const requests = core.metrics.counter('pbxd_http_requests_total', 'HTTP requests answered, by status class', ['status']);
  app.use((req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      requests.inc({ status: `${Math.floor(res.statusCode / 100)}xx` });
      core.log.debug('http request', { method: req.method, path: req.originalUrl.split('?')[0], status: res.statusCode, ms: Math.round(performance.now() - started) });
    });
    next();
  });

  // Operations endpoints (/healthz, /readyz, /metrics) live at the root, outside the versioned API.
  for (const f of features) if (f.publicRoutes) app.use(f.publicRoutes());

  const api = Router();
  // JSON bodies up to 1 MB; the bulk import (larger) and license uploads (smaller) parse their own.
  const bulk = new Set(['/users/import', '/license', '/license/stage']);
  api.use(strictJson);
  // Default deny: the admin check runs before any body is parsed (HEAD is answered by GET routes).
  const admin = requireAdmin(core);
  api.use((req, res, next) => (publicApi.has(`${req.method === 'HEAD' ? 'GET' : req.method} ${req.path}`) ? next() : admin(req, res, next)));
  api.use(express.json({ limit: '1mb', type: (req) => !bulk.has((req as express.Request).path) && /\bjson\b/.test(String(req.headers['content-type'] ?? '')) }));
  // The document lists the routes as mounted, so it is built on first request.
  let doc: Record<string, unknown> | undefined;
  const document = () => (doc ??= openApiDocument(core.build.version, routesOf(api), (r) => publicApi.has(`${r.method.toUpperCase()} ${r.path}`)));
  api.get('/openapi.json', (_req, res) => res.json(document()));
  api.get('/reference', (_req, res) => {
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    res.type('html').send(referencePage(document()));
  });
  api.get('/refusals', (_req, res) => res.json({ codes: refusalCodes() }));
  for (const r of routers) api.use(r);
  api.use((req) => {
    throw refuse('REQ_NOT_FOUND', { what: `${req.method} /api/v1${req.path}` });
  });
  app.use('/api/v1', api);
  // The UI's texts: its own, plus the daemon's messages (provisioning outcomes, alerts, job results) as
  // msg.CODE, so the UI words them from the one catalogue that writes them.
  const uiTexts = new Map<string, string>();
  app.get('/i18n/:file', webHeaders, (req, res, next) => {
    const lang = /^(en|de)\.json$/.exec(String(req.params.file))?.[1] as 'en' | 'de' | undefined;
    if (!lang) return next();
    let body = uiTexts.get(lang);
    if (!body) {
      const own = JSON.parse(readFileSync(join(appRoot, 'web', 'i18n', `${lang}.json`), 'utf8')) as Record<string, string>;
      for (const [code, text] of Object.entries(messageCatalogue())) own[`msg.${code}`] = text[lang];
      uiTexts.set(lang, (body = JSON.stringify(own)));
    }
    res.type('json').send(body);
  });
  // The web UI: plain files, no build step. Its pages fetch /api/v1 and open /socket.io.
  app.use(webHeaders, express.static(join(appRoot, 'web'), { index: 'index.html', dotfiles: 'ignore', etag: true }));
  app.use(errorHandler(core.log));
  return app;
}

/**
 * The UI's pages load only their own scripts and styles (and talk only to this
 * origin), and may not be framed. Static files may be revalidated by ETag.
 */
function webHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-cache');
  next();
}
