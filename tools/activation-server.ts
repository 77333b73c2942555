#!/usr/bin/env node
/**
 * pbx-activation-server — a development activation server (vendor side) for
 * tests, demos and support. It serves the activation protocol from a folder.
 *
 * Protocol (JSON over HTTP, version 1):
 *   POST /v1/check   {systemId, licenseId, issuedAt}
 *        → 200 {status: "none"}                         nothing newer than issuedAt
 *        → 200 {status: "license", license: "<file>"}   the newest license for systemId
 *          (either answer carries "revocations": "<list>" when DIR/revocations.txt exists)
 *   POST /v1/request {systemId, requestKey}
 *        → 200 {status: "license", license: "<file>"}   a provisional license, valid 90 days
 *        → 404 {error: {code: "unknown_key", message}}
 *        → 409 {error: {code: "key_refused", message}}  key bound to / used by another system
 *        → 400 {error: {code: "bad_request", message}}
 *
 * Folder layout:
 *   DIR/<SYSTEM-ID>/*.lic     issued license files for that appliance (pbx-license issue --out …);
 *                             /v1/check answers with the one issued last
 *   DIR/request-keys.json     { "<10 digits>": { "spec": { edition, quantities, perUser, operator,
 *                             licenseId, … }, "systemId"?: "<only for this system>" } }
 *                             The server adds "usedBy" when a key is redeemed and keeps the
 *                             provisional license as DIR/<SYSTEM-ID>/provisional-<key>.lic.
 *
 * The appliance verifies every answer itself; this server only signs (with the CA given by --ca).
 */
import http from 'node:http';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from '../daemon/cli/args.js';
import { parseLicenseFile, type LicensePayload } from '../daemon/licensing/format.js';
import { DEV_CA_DIR, issueLicense, loadSigner, type LicenseSpec, type Signer } from './license-issuer.js';

const PROVISIONAL_DAYS = 90;
const SYSTEM_ID = /^[0-9A-F]{4}(-[0-9A-F]{4}){3}$/;
const REQUEST_KEY = /^\d{10}$/;
const MAX_BODY = 16 * 1024;

export interface RequestKeyEntry {
  spec: Omit<LicenseSpec, 'systemId'>;
  systemId?: string;
  usedBy?: string;
}

interface ActivationServerOptions {
  dir: string;
  signer?: Signer;
  now?: () => Date;
}

type Answer = { status: number; body: unknown };
const fail = (status: number, code: string, message: string): Answer => ({ status, body: { error: { code, message } } });

function payloadOf(text: string): LicensePayload | null {
  try {
    return JSON.parse(parseLicenseFile(text).payloadBytes.toString('utf8'));
  } catch {
    return null;
  }
}

/** The protocol as an http request listener (the CLI below serves it; tests may mount it). */
export function activationHandler(opts: ActivationServerOptions): http.RequestListener {
  const now = opts.now ?? (() => new Date());
  let signer = opts.signer;

  // The vendor's revocation list (pbx-license revoke --out DIR/revocations.txt) goes with every check answer.
  const withRevocations = (a: Answer): Answer => {
    const file = join(opts.dir, 'revocations.txt');
    return existsSync(file) && a.status === 200 ? { ...a, body: { ...(a.body as object), revocations: readFileSync(file, 'utf8') } } : a;
  };

  const check = (q: Record<string, unknown>): Answer => withRevocations(checkOnly(q));

  const checkOnly = (q: Record<string, unknown>): Answer => {
    const systemId = String(q.systemId ?? '').toUpperCase();
    if (!SYSTEM_ID.test(systemId)) return fail(400, 'bad_request', 'systemId must look like 4F2A-9C1B-77D0-E3A5');
    const since = typeof q.issuedAt === 'string' ? q.issuedAt : '';
    const folder = join(opts.dir, systemId);
    if (!existsSync(folder)) return { status: 200, body: { status: 'none' } };
    const newest = readdirSync(folder)
      .filter((n) => n.endsWith('.lic'))
      .map((n) => readFileSync(join(folder, n), 'utf8'))
      .map((text) => ({ text, p: payloadOf(text) }))
      .filter((x) => x.p && typeof x.p.issuedAt === 'string')
      .sort((a, b) => a.p!.issuedAt.localeCompare(b.p!.issuedAt))
      .at(-1);
    if (!newest || (since && newest.p!.issuedAt <= since)) return { status: 200, body: { status: 'none' } };
    return { status: 200, body: { status: 'license', license: newest.text } };
  };

  const request = (q: Record<string, unknown>): Answer => {
    const systemId = String(q.systemId ?? '').toUpperCase();
    const key = String(q.requestKey ?? '');
    if (!SYSTEM_ID.test(systemId)) return fail(400, 'bad_request', 'systemId must look like 4F2A-9C1B-77D0-E3A5');
    if (!REQUEST_KEY.test(key)) return fail(400, 'bad_request', 'a request key has 10 digits');
    const keysFile = join(opts.dir, 'request-keys.json');
    const keys: Record<string, RequestKeyEntry> = existsSync(keysFile) ? JSON.parse(readFileSync(keysFile, 'utf8')) : {};
    const entry = keys[key];
    if (!entry) return fail(404, 'unknown_key', `request key ${key} is unknown`);
    if (entry.systemId && entry.systemId.toUpperCase() !== systemId) return fail(409, 'key_refused', `the key was issued for system ${entry.systemId}`);
    if (entry.usedBy && entry.usedBy !== systemId) return fail(409, 'key_refused', `the key was already redeemed by system ${entry.usedBy}`);
    const folder = join(opts.dir, systemId);
    const file = join(folder, `provisional-${key}.lic`);
    // Asking again with the same key (a lost answer) returns the same license.
    if (existsSync(file)) return { status: 200, body: { status: 'license', license: readFileSync(file, 'utf8') } };
    signer ??= loadSigner(DEV_CA_DIR);
    const at = now();
    const text = issueLicense(
      { ...entry.spec, systemId, kind: 'provisional', licenseId: entry.spec.licenseId ?? `LIC-${key}`, validFrom: undefined, issuedAt: undefined, expiresAt: new Date(at.getTime() + PROVISIONAL_DAYS * 86400_000).toISOString().replace(/\.\d+Z$/, 'Z') },
      signer,
      at,
    );
    mkdirSync(folder, { recursive: true });
    writeFileSync(file, text);
    keys[key] = { ...entry, usedBy: systemId };
    writeFileSync(keysFile + '.tmp', JSON.stringify(keys, null, 2) + '\n');
    renameSync(keysFile + '.tmp', keysFile);
    return { status: 200, body: { status: 'license', license: text } };
  };

  return (req, res) => {
    const send = (a: Answer) => {
      const body = JSON.stringify(a.body);
      res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const route = req.method === 'POST' && req.url === '/v1/check' ? check : req.method === 'POST' && req.url === '/v1/request' ? request : null;
    if (!route) return send(fail(404, 'not_found', `${req.method} ${req.url} is not part of the protocol`));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      let q: unknown;
      try {
        q = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(fail(400, 'bad_request', 'the body is not JSON'));
      }
      if (!q || typeof q !== 'object') return send(fail(400, 'bad_request', 'the body is not a JSON object'));
      try {
        send(route(q as Record<string, unknown>));
      } catch (e) {
        send(fail(500, 'internal', (e as Error).message));
      }
    });
  };
}

async function startActivationServer(opts: ActivationServerOptions & { host?: string; port?: number }): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(activationHandler(opts));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const a = server.address() as { address: string; port: number };
  return { server, url: `http://${a.address}:${a.port}` };
}

const USAGE = `pbx-activation-server — development activation server (vendor side)

  pbx-activation-server --dir DIR [--port N] [--host H] [--ca CADIR]

  DIR/<SYSTEM-ID>/*.lic     issued licenses, newest answers /v1/check
  DIR/request-keys.json     {"<10 digits>": {"spec": {...license spec...}}} for /v1/request
  Point an appliance at it with activation.url = "http://HOST:PORT".`;

async function main(argv: string[]): Promise<void> {
  const a = parseArgs(argv, new Set(['help']));
  if (a.has('help') || !a.get('dir')) {
    console.log(USAGE);
    if (!a.has('help')) process.exit(64);
    return;
  }
  const { server, url } = await startActivationServer({ dir: a.get('dir')!, port: Number(a.get('port') ?? 0), host: a.get('host'), signer: loadSigner(a.get('ca') ?? DEV_CA_DIR) });
  console.log(`listening on ${url} (serving ${a.get('dir')})`);
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`pbx-activation-server: ${(e as Error).message}`);
    process.exit(1);
  });
}
