/**
 * `npm run bench`: every benchmark against the real daemon, each figure next to
 * its reference measured in the same run on the same machine, as a ratio.
 * Prints a table and the machine, and writes the same figures as JSON
 * (bench/results/<timestamp>.json and latest.json) so runs can be compared.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Bench, BenchRow } from './report.js';
import { ROOT } from '../test/support/daemon.js';
import { bench as users } from './users.js';
import { bench as provisioning } from './provisioning.js';
import { bench as sessions } from './sessions.js';
import { bench as startup } from './startup.js';
import { bench as license } from './license.js';
import { bench as fanout } from './fanout.js';
import { bench as adminLogin } from './admin-login.js';
import { bench as growth } from './growth.js';

const benches: Array<[string, Bench]> = [['users', users], ['provisioning', provisioning], ['sessions', sessions], ['startup', startup], ['license', license], ['fanout', fanout], ['admin-login', adminLogin], ['growth', growth]];

function machine() {
  return { node: process.version, platform: `${os.type()} ${os.release()}`, cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? '?', memoryGiB: Math.round(os.totalmem() / 2 ** 30), load: os.loadavg().map((l) => Math.round(l * 100) / 100) };
}

function format(r: BenchRow): string {
  const ref = r.reference ? `${r.reference.value} (${r.reference.name})` : '';
  const ratio = r.ratio !== undefined ? `${r.ratio}×` : '';
  const target = r.target ? `${r.target} ${r.met === undefined ? '' : r.met ? 'met' : 'MISSED'}` : '';
  return `| ${r.name} | ${r.value} ${r.unit} | ${ref} | ${ratio} | ${target} |${r.notes ? ` ${r.notes} |` : ''}`;
}

const only = process.argv.slice(2);
const results: Record<string, BenchRow[] | { error: string }> = {};
console.log(`pbxd bench on ${JSON.stringify(machine())}\n`);
for (const [name, run] of benches) {
  if (only.length && !only.includes(name)) continue;
  const t0 = performance.now();
  try {
    results[name] = await run();
    console.log(`## ${name} (${Math.round((performance.now() - t0) / 1000)} s)\n| figure | value | reference | ratio | target | notes |\n|---|---|---|---|---|---|`);
    for (const r of results[name] as BenchRow[]) console.log(format(r));
    console.log();
  } catch (e) {
    results[name] = { error: (e as Error).stack ?? String(e) };
    console.log(`## ${name}: FAILED\n${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
const dir = join(ROOT, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const json = JSON.stringify({ at: new Date().toISOString(), machine: machine(), results }, null, 2);
writeFileSync(join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`), json);
writeFileSync(join(dir, 'latest.json'), json);
console.log(`figures written to ${join(dir, 'latest.json')}`);
