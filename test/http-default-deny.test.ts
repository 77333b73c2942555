import { expect } from 'chai';
import { TestDaemon } from './support/daemon.js';

/**
 * Default deny: every route under /api/v1 needs an admin, except the few the
 * app lists as public. The routes are walked as the app knows them (the
 * OpenAPI document is read from express's router stack), so a route a feature
 * adds later is covered without touching this test.
 */
describe('HTTP default deny', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  let operations: Array<{ method: string; path: string; open: boolean }>;
  before(async () => {
    // Loopback alone may not read /metrics here, so its own rule is visible.
    d = await TestDaemon.start({ config: { metrics: { allowLoopback: false } } });
    const doc = (await d.request('GET', '/api/v1/openapi.json', { auth: false })).json;
    operations = Object.entries(doc.paths as Record<string, Record<string, { security?: unknown[] }>>).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, open: Array.isArray(op.security) && op.security.length === 0 })),
    );
  });
  after(async () => d.dispose());

  const concrete = (path: string) => `/api/v1${path.replace(/\{\w+\}/g, 'x1')}`;

  it('lists exactly the public API routes: login, the OpenAPI document, its page and the refusal codes', () => {
    expect(operations.length, 'the walk found the routes').to.be.above(50);
    expect(operations.filter((o) => o.open).map((o) => `${o.method} ${o.path}`).sort()).to.deep.equal(['GET /openapi.json', 'GET /reference', 'GET /refusals', 'POST /auth/login']);
  });

  it('answers every other API route 401 without credentials, and changes nothing', async () => {
    const before = (await d.request('GET', '/api/v1/audit?limit=1')).json.total;
    const answered: string[] = [];
    for (const { method, path, open } of operations) {
      if (open) continue;
      const r = await d.request(method, concrete(path), method === 'GET' || method === 'HEAD' ? { auth: false } : { auth: false, body: {} });
      answered.push(`${method} ${path} ${r.status} ${r.json?.error?.code}`);
      expect(r.status, `${method} ${path}: ${r.text.slice(0, 200)}`).to.equal(401);
      expect(r.json.error.code, `${method} ${path}`).to.equal('AUTH_REQUIRED');
    }
    expect(answered.length).to.equal(operations.filter((o) => !o.open).length);
    expect((await d.request('GET', '/api/v1/audit?limit=1')).json.total, 'no audit entry written').to.equal(before);
  });

  it('refuses a wrong token and a session cookie without its CSRF token on state changes', async () => {
    const bad = await d.request('GET', '/api/v1/users', { auth: false, headers: { authorization: 'Bearer not-a-token' } });
    expect(bad.status).to.equal(401);
    const login = await d.request('POST', '/api/v1/auth/login', { auth: false, body: { name: 'admin', password: 'test-admin-password-1' } });
    expect(login.status).to.equal(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    expect((await d.request('GET', '/api/v1/users', { auth: false, headers: { cookie } })).status, 'a session reads').to.equal(200);
    const forged = await d.request('POST', '/api/v1/users', { auth: false, headers: { cookie }, body: { userName: 'mallory', firstName: 'M', lastName: 'M' } });
    expect(forged.status).to.equal(403);
    expect(forged.json.error.code).to.equal('CSRF_INVALID');
    expect((await d.request('GET', '/api/v1/users/mallory')).status, 'nothing created').to.equal(404);
  });

  it('denies spellings of a path that express would route to a protected handler, and unknown paths', async () => {
    for (const path of ['/api/v1/STATUS', '/API/V1/status', '/api/v1/status/', '/api/v1//status', '/api/v1/auth/login/../../status', '/api/v1/no/such/route', '/api/v1/']) {
      const r = await d.request('GET', path, { auth: false });
      expect(r.status, `${path}: ${r.text.slice(0, 200)}`).to.equal(401);
    }
    // A public path in another case is not on the list: it is refused, not let through.
    const login = await d.request('POST', '/api/v1/AUTH/LOGIN', { auth: false, body: { name: 'admin', password: 'test-admin-password-1' } });
    expect(login.status).to.equal(401);
  });

  it('keeps the public routes open (HEAD too) and the operations endpoints under their own rules', async () => {
    expect((await d.request('GET', '/api/v1/refusals', { auth: false })).status).to.equal(200);
    expect((await d.request('HEAD', '/api/v1/openapi.json', { auth: false })).status).to.equal(200);
    expect((await d.request('GET', '/api/v1/reference', { auth: false })).status).to.equal(200);
    expect((await d.request('GET', '/healthz', { auth: false })).status).to.equal(200);
    expect((await d.request('GET', '/readyz', { auth: false })).status).to.equal(200);
    const metrics = await d.request('GET', '/metrics', { auth: false });
    expect(metrics.status, 'metrics: loopback is not enough here').to.equal(401);
    expect((await d.request('GET', '/metrics')).status, 'metrics with a token').to.equal(200);
    const ui = await d.request('GET', '/', { auth: false });
    expect(ui.status).to.equal(200);
    expect(ui.headers.get('content-type')).to.match(/^text\/html/);
  });
});
