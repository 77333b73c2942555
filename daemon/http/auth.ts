import type { NextFunction, Request, Response } from 'express';
import type { Core } from '../core/core.js';
import { LOCAL_CLI, type Principal } from '../core/admins.js';
import { refuse } from '../kernel/refusal.js';

export const SESSION_COOKIE = 'pbxd_session';

/** Set on requests that arrived over the local control socket (pbxctl on the appliance). */
export const VIA_CONTROL_SOCKET = Symbol('viaControlSocket');

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
    [VIA_CONTROL_SOCKET]?: boolean;
  }
}

export function readCookie(header: string | undefined, name: string): string {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return '';
}

export function bearer(req: Request): string {
  const h = req.headers.authorization ?? '';
  return h.startsWith('Bearer ') ? h.slice(7).trim() : '';
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every admin route needs a principal: the local control socket, a bearer
 * token, or a session cookie. Cookie sessions must echo their CSRF token on
 * state-changing requests (bearer tokens cannot be sent by a foreign page).
 */
export function requireAdmin(core: Core) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    if (req[VIA_CONTROL_SOCKET]) {
      req.principal = LOCAL_CLI;
      return next();
    }
    const token = bearer(req);
    if (token) {
      const p = await core.admins.authenticate(token);
      if (!p) throw refuse('AUTH_REQUIRED');
      req.principal = p;
      return next();
    }
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    const p = cookie ? await core.admins.authenticate(cookie) : null;
    if (!p || p.kind !== 'session') throw refuse('AUTH_REQUIRED');
    if (!SAFE_METHODS.has(req.method) && req.headers['x-csrf-token'] !== p.csrf) throw refuse('CSRF_INVALID');
    req.principal = p;
    next();
  };
}

export function actor(req: Request): string {
  return req.principal?.admin ?? 'anonymous';
}
