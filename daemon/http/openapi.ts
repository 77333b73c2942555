/**
 * The REST API described for humans and tools (served at /api/v1/openapi.json).
 * One line per operation; the shapes of refusals are shared by all.
 */
type Op = [method: string, path: string, summary: string, opts?: { public?: boolean; body?: 'json' | 'license'; tag?: string }];

const operations: Op[] = [
  ['post', '/auth/login', 'Log in: {name, password} → session cookie + CSRF token; with {token: true} → bearer token', { public: true, body: 'json', tag: 'auth' }],
  ['post', '/auth/logout', 'End this session or token', { tag: 'auth' }],
  ['get', '/auth/me', 'Who is logged in (and the CSRF token of this session)', { tag: 'auth' }],
  ['get', '/admins', 'List admin accounts', { tag: 'auth' }],
  ['put', '/admins/{name}/password', 'Create an admin or set its password {password}', { body: 'json', tag: 'auth' }],
  ['post', '/tokens', 'Create an API token {label} for yourself', { body: 'json', tag: 'auth' }],
  ['get', '/status', 'Mode and reason, edition, operator, system id, every code with used/total, validity', { tag: 'license' }],
  ['get', '/license', 'Status plus the staged license, if any', { tag: 'license' }],
  ['post', '/license/stage', 'Verify a license file and stage it; returns the change code by code', { body: 'license', tag: 'license' }],
  ['get', '/license/staged', 'The staged license and its changes', { tag: 'license' }],
  ['post', '/license/activate', 'Activate a staged license {stageId}', { body: 'json', tag: 'license' }],
  ['post', '/license', 'Stage and activate a license file in one step', { body: 'license', tag: 'license' }],
  ['get', '/audit', 'Audit log, one page, newest first; filters: action (prefix), actor, q (text in subject, actor, action or details), before (id); sort id; paged: limit (default 50, at most 500), offset, order=asc|desc; answers total, limit, offset', { tag: 'audit' }],
  ['get', '/audit/verify', 'Check the hash chain of the audit log', { tag: 'audit' }],
  ['get', '/refusals', 'Every stable refusal code', { public: true, tag: 'meta' }],
  ['get', '/openapi.json', 'This document', { public: true, tag: 'meta' }],
];

/** Features add their operations here at import time. */
export function describe(ops: Op[]): void {
  operations.push(...ops);
}

export function openApiDocument(version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [method, path, summary, opts = {}] of operations) {
    const op: Record<string, unknown> = {
      summary,
      tags: [opts.tag ?? 'misc'],
      responses: {
        '200': { description: 'OK' },
        default: { description: 'Refusal', content: { 'application/json': { schema: { $ref: '#/components/schemas/RefusalEnvelope' } } } },
      },
    };
    if (opts.public) op.security = [];
    if (opts.body === 'json') op.requestBody = { content: { 'application/json': { schema: { type: 'object' } } } };
    if (opts.body === 'license')
      op.requestBody = {
        content: {
          'text/plain': { schema: { type: 'string', description: 'The license file as received' } },
          'application/json': { schema: { type: 'object', properties: { license: { type: 'string' } } } },
        },
      };
    (paths[path] ??= {})[method] = op;
  }
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
          properties: {
            error: {
              type: 'object',
              required: ['code', 'status', 'message', 'text', 'remedy', 'details'],
              properties: {
                code: { type: 'string', example: 'SEATS_EXHAUSTED' },
                status: { type: 'integer' },
                message: { type: 'string', example: '501 of 501 user seats in use.' },
                text: { type: 'object', properties: { en: { type: 'string' }, de: { type: 'string' } } },
                remedy: { type: 'object', properties: { en: { type: 'string' }, de: { type: 'string' } } },
                details: { type: 'object' },
              },
            },
          },
        },
      },
    },
    paths,
  };
}
