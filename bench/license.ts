/**
 * License verification: `LicenseVerifier.verify` of one signed file (parse,
 * strict certificate decoding, RSA signature, chain to the trusted root,
 * payload checks), next to Node's native `crypto.verify` of the same signature
 * over the same bytes with the same key: the floor any verifier has to pay.
 *
 * Ratios are reference / value (lower is better here), as bench/report.ts says:
 * above 1 the daemon does better than its reference.
 */
import { createPublicKey, verify } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { Bench, BenchRow } from './report.js';
import { percentile, round } from './support.js';
import { LicenseVerifier, DEVELOPMENT_ROOT } from '../daemon/licensing/verifier.js';
import { parseLicenseFile } from '../daemon/licensing/format.js';
import { buildInfo } from '../daemon/core/system.js';
import { issueLicense } from '../tools/license-issuer.js';

const RUNS = 300;
const WARMUP = 30;

function timeEach(n: number, fn: () => void): number[] {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

export const bench: Bench = async () => {
  const systemId = 'BENCH-0000-0000-0001';
  const text = issueLicense({ systemId, quantities: { users: 10_000, 'devices.cisco': 5000, 'devices.unify': 5000 }, perUser: { clientbundle: 10_000, vap: 500 } });
  const verifier = new LicenseVerifier({ trustedRoots: [DEVELOPMENT_ROOT], systemId, buildDate: buildInfo().buildDate, maxFutureMinutes: 5 });
  const now = new Date();
  const file = parseLicenseFile(text);
  const key = createPublicKey(file.certificates[0]!);

  const ours = () => verifier.verify(text, now);
  const native = () => {
    if (!verify('sha256', file.payloadBytes, key, file.signature)) throw new Error('native verify refused the signature');
  };
  timeEach(WARMUP, ours);
  timeEach(WARMUP, native);
  const t = timeEach(RUNS, ours);
  const r = timeEach(RUNS, native);
  const p50 = percentile(t, 50);
  const ref = percentile(r, 50);
  const rows: BenchRow[] = [
    {
      name: `license verification, one file (p50 of ${RUNS})`,
      value: round(p50, 2),
      unit: 'ms',
      reference: { name: "Node's native crypto.verify of the same RSA-2048 signature", value: round(ref, 3) },
      ratio: round(ref / p50, 3),
      notes: `p99 ${round(percentile(t, 99), 2)} ms; includes parsing, strict DER re-encoding of the certificate, the chain check and the payload checks (node-forge, pure JS)`,
    },
  ];
  return rows;
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.table(await bench());
