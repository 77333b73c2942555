import { expect } from 'chai';
import { validate } from '@readme/openapi-parser';
import { TestDaemon } from './support/daemon.js';

/**
 * The OpenAPI document is built from the routes themselves: a strict OpenAPI
 * 3.1 validator accepts it, it lists every route the daemon answers (and no
 * other), and each of its operations is described.
 */
describe('OpenAPI document', function () {
  this.timeout(30_000);
  let d: TestDaemon;
  let doc: any;
  before(async () => {
    d = await TestDaemon.start();
    const r = await d.request('GET', '/api/v1/openapi.json', { auth: false });
    expect(r.status).to.equal(200);
    doc = r.json;
  });
  after(async () => d.dispose());

  const operations = () => Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));

  it('passes a strict OpenAPI 3.1 validator', async () => {
    const result = await validate(structuredClone(doc), { validate: { errors: { colorize: false } } });
    const errors = result.valid ? [] : result.errors;
    expect(errors, JSON.stringify(errors, null, 1)).to.deep.equal([]);
    expect(result.valid).to.equal(true);
    expect(result.warnings).to.deep.equal([]);
    expect(doc.openapi).to.equal('3.1.0');
  });

  it('declares every path parameter, GET /users/{userName} included', () => {
    const user = doc.paths['/users/{userName}']?.get;
    expect(user, 'GET /users/{userName}').to.be.an('object');
    expect(user.parameters).to.deep.equal([{ name: 'userName', in: 'path', required: true, schema: { type: 'string' } }]);
    for (const { path, method, op } of operations()) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect((op.parameters ?? []).map((p: any) => p.name).sort(), `${method} ${path}`).to.deep.equal(inPath);
    }
  });

  it('describes every operation, with the error envelope and the refusal codes', async () => {
    const undescribed = operations().filter(({ op }) => op.summary === 'Not described yet').map(({ method, path }) => `${method} ${path}`);
    expect(undescribed).to.deep.equal([]);
    const codes = (await d.request('GET', '/api/v1/refusals', { auth: false })).json.codes;
    expect(doc.components.schemas.RefusalEnvelope.properties.error.properties.code.enum).to.deep.equal(codes);
    for (const { op } of operations()) expect(op.responses.default.content['application/json'].schema.$ref).to.equal('#/components/schemas/RefusalEnvelope');
    expect(doc.paths['/users'].post.requestBody.content['application/json'].schema.properties).to.have.all.keys('userName', 'firstName', 'lastName', 'tenant', 'extension');
    expect(doc.paths['/license'].post.requestBody.content).to.have.all.keys('text/plain', 'application/json');
  });

  it('lists only routes that exist: no GET without parameters falls through to "no such route"', async () => {
    const noRoute = await d.request('GET', '/api/v1/no/such/route');
    expect(noRoute.json.error.details.what).to.equal('GET /api/v1/no/such/route');
    for (const { path, method, op } of operations()) {
      if (method !== 'get' || path.includes('{')) continue;
      const r = await d.request('GET', `/api/v1${path}`, { auth: !op.security });
      expect(r.status, `GET ${path}: ${r.text.slice(0, 200)}`).to.be.below(500);
      expect(r.json?.error?.details?.what, `GET ${path}`).to.not.equal(`GET /api/v1${path}`);
    }
    const missing = await d.request('GET', '/api/v1/users/nobody');
    expect(missing.status).to.equal(404);
    expect(missing.json.error).to.include.keys('code', 'status', 'message', 'text', 'remedy', 'details');
    expect(doc.paths['/users/nobody']).to.equal(undefined);
  });

  it('is served as a reference page without scripts', async () => {
    const r = await d.request('GET', '/api/v1/reference', { auth: false });
    expect(r.status).to.equal(200);
    expect(r.headers.get('content-type')).to.match(/^text\/html/);
    expect(r.headers.get('content-security-policy')).to.contain("default-src 'none'");
    expect(r.text).to.not.contain('<script');
    for (const { path } of operations()) expect(r.text, path).to.contain(`/api/v1${path.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}`);
  });
});
