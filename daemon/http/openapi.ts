/**
 * The REST API described for humans and tools (served at /api/v1/openapi.json
 * and as a page at /api/v1/reference). The operations are the routes
 * themselves, read from the express routers; what a route does, takes and
 * returns comes from its one description line (`describe`). The shape of
 * refusals is shared by all.
 */
import type { Router } from 'express';
import { refusalCodes } from '../kernel/refusal.js';

type Body = 'json' | 'license';
type Op = [method: string, path: string, summary: string, opts?: { body?: Body; tag?: string }];

/** A route as express knows it: its method and its path under /api/v1 (":name" parameters). */
interface RouteInfo {
  method: string;
  path: string;
}

const descriptions = new Map<string, Op>();
const key = (method: string, path: string) => `${method.toLowerCase()} ${path}`;

/** Features describe their operations at import time, one line each (paths with {param}). */
export function describe(ops: Op[]): void {
  for (const op of ops) descriptions.set(key(op[0], op[1]), op);
}

describe([
  ['post', '/auth/login', 'Log in: {name, password} → session cookie + CSRF token; with {token: true, label?, expiresInDays?} → bearer token (default 90 days)', { body: 'json', tag: 'auth' }],
  ['post', '/auth/logout', 'End this session or token', { tag: 'auth' }],
  ['get', '/auth/me', 'Who is logged in (and the CSRF token of this session)', { tag: 'auth' }],
  ['get', '/admins', 'Admin accounts (disabled, last login); limit, offset', { tag: 'auth' }],
  ['put', '/admins/{name}/password', 'Create an admin or set its password {password, currentPassword}; at least 12 characters, not a common password', { body: 'json', tag: 'auth' }],
  ['post', '/tokens', 'Create an API token {label, expiresInDays?} for yourself (default 90 days)', { body: 'json', tag: 'auth' }],
  ['get', '/status', 'Mode and reason, edition, operator, system id, every code with used/total, validity', { tag: 'license' }],
  ['get', '/license', 'Status plus the staged license, if any', { tag: 'license' }],
  ['post', '/license/stage', 'Verify a license file and stage it; returns the change code by code', { body: 'license', tag: 'license' }],
  ['get', '/license/staged', 'The staged license and its changes; ?stageId=N for one', { tag: 'license' }],
  ['post', '/license/activate', 'Activate a staged license {stageId, plan?}; with a removal plan, both in one transaction', { body: 'json', tag: 'license' }],
  ['post', '/license', 'Stage and activate a license file in one step', { body: 'license', tag: 'license' }],
  ['get', '/users/{userName}', 'One user: names, tenant, extension, status, created, last active', { tag: 'users' }],
  ['get', '/audit', 'Audit log, one page, newest first; filters: action (prefix), actor, q (text in subject, actor, action or details), before (id); sort id; paged: limit (default 50, at most 500), offset, order=asc|desc; answers total, limit, offset', { tag: 'audit' }],
  ['get', '/audit/verify', 'Check the hash chain of the audit log', { tag: 'audit' }],
  ['get', '/dev/clock', 'Development only (dev.clockControl): the daemon clock and its offset', { tag: 'dev' }],
  ['put', '/dev/clock', 'Development only (dev.clockControl): set the daemon clock {now} or {offsetMs}', { body: 'json', tag: 'dev' }],
  ['get', '/refusals', 'Every stable refusal code', { tag: 'meta' }],
  ['get', '/openapi.json', 'This document', { tag: 'meta' }],
  ['get', '/reference', 'This document as a page', { tag: 'meta' }],
]);

/** Every route of a router and of the routers mounted in it (at their root, as the API mounts them). */
export function routesOf(router: Router): RouteInfo[] {
  const out: RouteInfo[] = [];
  const walk = (stack: unknown[]) => {
    for (const layer of stack as Array<{ route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: unknown[] } }>) {
      if (layer.route) for (const m of Object.keys(layer.route.methods)) out.push({ method: m, path: layer.route.path });
      else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((router as unknown as { stack: unknown[] }).stack);
  return out;
}

/** Express writes parameters as ":name", OpenAPI as "{name}". */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

const bodies: Record<Body, unknown> = {
  json: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
  license: {
    required: true,
    content: {
      'text/plain': { schema: { type: 'string', description: 'The license file as received' } },
      'application/json': { schema: { type: 'object', required: ['license'], properties: { license: { type: 'string' } } } },
    },
  },
};

/** A JSON body's fields as its description line names them: "{userName, firstName, tenant?}". */
function jsonBody(summary: string): unknown {
  // Only a flat list as the first braces: "{changes:[{…}]}" stays a plain object.
  const fields = /^\{([A-Za-z?]+(?:, [A-Za-z?]+)*)\}/.exec(summary.slice(Math.max(0, summary.indexOf('{'))))?.[1]?.split(', ');
  if (!fields) return bodies.json;
  const properties = Object.fromEntries(fields.map((f) => [f.replace(/\?$/, ''), { description: f.endsWith('?') ? 'optional' : 'see the summary' }]));
  return { required: true, content: { 'application/json': { schema: { type: 'object', properties } } } };
}

/** `isPublic` tells the routes that need no login (the app's one list of them). */
export function openApiDocument(version: string, routes: RouteInfo[], isPublic: (route: RouteInfo) => boolean): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    const [, , summary, opts = {}] = descriptions.get(key(route.method, path)) ?? [route.method, path, 'Not described yet', {}];
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const op: Record<string, unknown> = {
      operationId: `${route.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary,
      tags: [opts.tag ?? 'misc'],
      responses: {
        '2XX': { description: 'Done; the body is JSON', content: { 'application/json': { schema: { type: 'object' } } } },
        default: { description: 'Refused: the error envelope with a stable code; nothing was changed', content: { 'application/json': { schema: { $ref: '#/components/schemas/RefusalEnvelope' } } } },
      },
    };
    if (params.length) op.parameters = params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
    if (isPublic(route)) op.security = [];
    if (opts.body) op.requestBody = opts.body === 'json' ? jsonBody(summary) : bodies[opts.body];
    (paths[path] ??= {})[route.method] = op;
  }
  const text = { type: 'object', required: ['en', 'de'], properties: { en: { type: 'string' }, de: { type: 'string' } } };
  return {
    openapi: '3.1.0',
    info: { title: 'pbxd admin API', version, description: 'License enforcement daemon of the PBX appliance. Every refusal has a stable code; see /refusals.' },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }, { session: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Token from POST /auth/login {token: true} or pbxctl token create' },
        session: { type: 'apiKey', in: 'cookie', name: 'pbxd_session', description: 'Web UI session; state-changing requests must send X-CSRF-Token' },
      },
      schemas: {
        RefusalEnvelope: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'status', 'message', 'text', 'remedy', 'details'],
              properties: {
                code: { type: 'string', enum: refusalCodes(), example: 'SEATS_EXHAUSTED' },
                status: { type: 'integer' },
                message: { type: 'string', description: 'The English text', example: '501 of 501 user seats in use.' },
                text,
                remedy: text,
                details: { type: 'object', description: 'The numbers and names the texts are made of' },
              },
            },
          },
        },
      },
    },
    paths,
  };
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The document as one page without scripts: operations by tag, with parameters and bodies. */
export function referencePage(doc: Record<string, unknown>): string {
  const byTag = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, Record<string, unknown>>>)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = (op.tags as string[])[0]!;
      const params = ((op.parameters as Array<{ name: string }>) ?? []).map((p) => `<code>${escape(p.name)}</code>`).join(', ');
      const body = op.requestBody ? Object.keys((op.requestBody as { content: Record<string, unknown> }).content).join(' or ') : '';
      const open = op.security ? ' <em>(no login)</em>' : '';
      byTag.set(tag, [...(byTag.get(tag) ?? []), `<tr><td><b>${method.toUpperCase()}</b></td><td><code>/api/v1${escape(path)}</code></td><td>${escape(String(op.summary))}${open}</td><td>${params}</td><td>${escape(body)}</td></tr>`]);
    }
  }
  const info = doc.info as { title: string; version: string };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(info.title)} ${escape(info.version)}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:75em}table{border-collapse:collapse;width:100%}td{border-top:1px solid #ddd;padding:.3em .6em;vertical-align:top}h2{margin-top:1.5em}</style></head>
<body><h1>${escape(info.title)} ${escape(info.version)}</h1>
<p>Authenticate with <code>Authorization: Bearer TOKEN</code> (<code>pbxctl token create</code>) or the web UI's session. Every refusal is <code>{"error":{code,status,message,text,remedy,details}}</code>; the codes: <a href="refusals">/api/v1/refusals</a>. Machine-readable: <a href="openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1).</p>
${[...byTag].map(([tag, rows]) => `<h2>${escape(tag)}</h2>\n<table><tr><th></th><th>path</th><th>what</th><th>path parameters</th><th>body</th></tr>\n${rows.join('\n')}</table>`).join('\n')}
</body></html>
`;
}
