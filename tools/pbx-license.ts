#!/usr/bin/env node
/**
 * pbx-license — the vendor's tool: create a (development) CA, issue license
 * files, inspect them. Runs on the vendor's side, never on the appliance.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { parseArgs } from '../daemon/cli/args.js';
import { createCa, DEV_CA_DIR, issueLicense, issueRevocationList, loadSigner, type LicenseSpec } from './license-issuer.js';
import { parseLicenseFile } from '../daemon/licensing/format.js';
import { DEVELOPMENT_ROOT, LicenseVerifier } from '../daemon/licensing/verifier.js';
import { isRefusal } from '../daemon/kernel/refusal.js';
import { verifyUsageReport } from '../daemon/licensing/usage-report.js';

const USAGE = `pbx-license — issue and inspect pbxd license files (vendor side)

  pbx-license ca init --dir DIR [--name NAME]
      Create a new CA (root + license signing certificate) in DIR.

  pbx-license issue --system-id ID [options] [--out FILE]
      --spec FILE.json          start from a JSON spec (any field of the payload)
      --users N --cisco N --unify N     server quantities
      --quantity CODE=N         any other server code (trunkchannels, autoattendants, …), repeatable
      --per-user CODE=N         per-user code (clientbundle, vap, voicemail, …), repeatable
      --edition NAME  --trial  --provisional
      --company TEXT --street TEXT --postcode TEXT --city TEXT
      --valid-from ISO  --expires ISO|never  --days N (expiry N days from now)
      --update-service-until YYYY-MM-DD  --license-id ID  --issued-at ISO
      --require NAME            a requirement the appliance must know (repeatable)
      --rehost-of ID            a rehost license: the system id whose data the appliance carries on
      --ca DIR                  sign with this CA (default: the development CA)

  pbx-license revoke [--serial HEX]... [--license-id ID]... [--ca DIR] [--out FILE]
      A signed revocation list: signing certificates (by serial) and license ids appliances
      must refuse. Append it to a license file, or put it as revocations.txt into the
      activation server's folder (every online check hands it out). A list replaces an older one.

  pbx-license inspect FILE [--root PEM] [--json]
      Show what a license file contains and whether its signature and chain are genuine.

  pbx-license verify-usage FILE [--pin FINGERPRINT] [--json]
      Verify a usage report (pbxctl usage report --out FILE) offline. The report is signed
      by the appliance's own key; pin its fingerprint at first contact and pass it with --pin.
`;

function codes(list: string[], flag: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of list) {
    const m = /^([a-z][a-z0-9._-]*)=(\d+)$/.exec(item);
    if (!m) throw new Error(`--${flag} ${item}: expected CODE=NUMBER`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

function iso(s: string): string {
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) throw new Error(`not a date: ${s}`);
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

function issue(argv: string[]): void {
  const a = parseArgs(argv, new Set(['trial', 'provisional']));
  const spec: LicenseSpec = a.get('spec') ? JSON.parse(readFileSync(a.get('spec')!, 'utf8')) : ({} as LicenseSpec);
  if (a.get('system-id')) spec.systemId = a.get('system-id')!;
  if (!spec.systemId) throw new Error('--system-id is required (pbxctl status shows it)');
  const q = { ...(spec.quantities ?? {}), ...codes(a.all('quantity'), 'quantity') };
  if (a.get('users')) q.users = Number(a.get('users'));
  if (a.get('cisco')) q['devices.cisco'] = Number(a.get('cisco'));
  if (a.get('unify')) q['devices.unify'] = Number(a.get('unify'));
  if (Object.keys(q).length) spec.quantities = { users: 0, 'devices.cisco': 0, 'devices.unify': 0, ...q };
  const pu = { ...(spec.perUser ?? {}), ...codes(a.all('per-user'), 'per-user') };
  if (Object.keys(pu).length) spec.perUser = pu;
  if (a.get('edition')) spec.edition = a.get('edition');
  if (a.has('trial')) spec.trial = true;
  if (a.has('provisional')) spec.kind = 'provisional';
  if (a.get('company')) spec.operator = { company: a.get('company')!, street: a.get('street'), postcode: a.get('postcode'), city: a.get('city') };
  if (a.get('valid-from')) spec.validFrom = iso(a.get('valid-from')!);
  if (a.get('issued-at')) spec.issuedAt = iso(a.get('issued-at')!);
  if (a.get('expires')) spec.expiresAt = a.get('expires') === 'never' ? null : iso(a.get('expires')!);
  if (a.get('days')) spec.expiresAt = iso(new Date(Date.now() + Number(a.get('days')) * 86400_000).toISOString());
  if (a.get('update-service-until')) spec.updateServiceUntil = a.get('update-service-until');
  if (a.get('license-id')) spec.licenseId = a.get('license-id');
  if (a.all('require').length) spec.requires = a.all('require');
  if (a.get('rehost-of')) spec.rehostOf = a.get('rehost-of');
  const text = issueLicense(spec, loadSigner(a.get('ca') ?? DEV_CA_DIR));
  if (a.get('out')) {
    writeFileSync(a.get('out')!, text);
    console.error(`license written to ${a.get('out')}`);
  } else process.stdout.write(text);
}

function inspect(argv: string[]): void {
  const a = parseArgs(argv, new Set(['json']));
  const file = a.positional[0];
  if (!file) throw new Error('inspect needs a FILE');
  const text = readFileSync(file, 'utf8');
  const parsed = parseLicenseFile(text);
  const payload = JSON.parse(parsed.payloadBytes.toString('utf8'));
  const cert = new X509Certificate(parsed.certificates[0]!);
  let verdict = 'genuine';
  try {
    // Check signature and chain only: the system id and build date are the appliance's business.
    new LicenseVerifier({ trustedRoots: [a.get('root') ?? DEVELOPMENT_ROOT], systemId: payload.systemId, buildDate: '0000-00-00', maxFutureMinutes: 1e9 }).verify(text, new Date());
  } catch (e) {
    verdict = isRefusal(e) ? `REFUSED ${e.code}: ${e.text.en}` : String(e);
  }
  const signer = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1] ?? '?';
  if (a.has('json')) return void console.log(JSON.stringify({ verdict, signer, payload }, null, 2));
  console.log(`verdict:    ${verdict}\nsigned by:  ${signer}`);
  for (const [k, v] of Object.entries(payload)) console.log(`${(k + ':').padEnd(20)}${typeof v === 'object' ? JSON.stringify(v) : v}`);
}

function verifyUsage(argv: string[]): void {
  const a = parseArgs(argv, new Set(['json']));
  const file = a.positional[0];
  if (!file) throw new Error('verify-usage needs a FILE');
  const v = verifyUsageReport(readFileSync(file, 'utf8'));
  const pinned = a.get('pin');
  const pinProblem = v.ok && pinned && pinned.toLowerCase() !== v.fingerprint.toLowerCase() ? `signed by key ${v.fingerprint}, not the pinned ${pinned}` : null;
  const ok = v.ok && !pinProblem;
  if (a.has('json')) console.log(JSON.stringify(v.ok ? { ok, problem: pinProblem, fingerprint: v.fingerprint, report: v.report } : v, null, 2));
  else if (!v.ok || pinProblem) console.log(`REFUSED: ${v.ok ? pinProblem : v.problem}`);
  else {
    console.log(`genuine: signed by appliance ${v.report.systemId} (key ${v.fingerprint})${pinned ? ', matches the pinned key' : ''}`);
    console.log(`license: ${v.report.license ? `${v.report.license.licenseId} (${v.report.license.edition}, ${v.report.license.kind})` : 'none (Entry)'}   generated: ${v.report.generatedAt}`);
    for (const m of v.report.months) console.log(`${m.month}  ${Object.entries(m.peaks).map(([c, n]) => `${c}=${n}`).join(' ')}`);
  }
  if (!ok) process.exitCode = 2;
}

function main(argv: string[]): void {
  const [cmd, sub, ...rest] = argv;
  if (cmd === 'ca' && sub === 'init') {
    const a = parseArgs(rest, new Set());
    const dir = a.get('dir');
    if (!dir) throw new Error('ca init needs --dir DIR');
    createCa(dir, a.get('name') ?? 'pbxd License Root CA');
    console.log(`CA created in ${dir}: root.cert.pem is the root to configure on appliances (license.trustedRoots).\nKeep ${join(dir, 'root.key.pem')} and ${join(dir, 'signing.key.pem')} secret.`);
  } else if (cmd === 'issue') issue(argv.slice(1));
  else if (cmd === 'revoke') {
    const a = parseArgs(argv.slice(1), new Set());
    const text = issueRevocationList({ serials: a.all('serial'), licenseIds: a.all('license-id') }, loadSigner(a.get('ca') ?? DEV_CA_DIR));
    if (a.get('out')) {
      writeFileSync(a.get('out')!, text);
      console.error(`revocation list written to ${a.get('out')}`);
    } else process.stdout.write(text);
  }
  else if (cmd === 'inspect') inspect(argv.slice(1));
  else if (cmd === 'verify-usage') verifyUsage(argv.slice(1));
  else {
    console.log(USAGE);
    if (cmd && cmd !== 'help' && cmd !== '--help') process.exit(64);
  }
}

try {
  main(process.argv.slice(2));
} catch (e) {
  console.error(`pbx-license: ${(e as Error).message}`);
  process.exit(1);
}
