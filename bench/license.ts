/**
 * License verification: `LicenseVerifier.verify` of one signed file (parse,
 * certificate facts, chain to the trusted root, RSA signature with node:crypto,
 * payload checks), next to Node's native `crypto.verify` of the same signature
 * over the same bytes with the same key: the floor any verifier has to pay.
 * A chain judged once is kept (by its bytes), as on the appliance, where the
 * same file is verified at install, at every start and on renewal checks.
 *
 * Then hostile files (huge keys, weak algorithms, expired certificates, bad
 * dates), each verified from a cold verifier (no chain kept): the slowest of
 * each kind against the 50 ms budget in which a refusal must come.
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
import { isRefusal } from '../daemon/kernel/refusal.js';
import { DAY, devSigner, hugePublicKey, iso, payload, sign, withRandomSignature } from '../test/support/tamper.js';

const HOSTILE_BUDGET_MS = 50;

const RUNS = 2000;
const WARMUP = 1000;

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
      value: round(p50, 3),
      unit: 'ms',
      reference: { name: "Node's native crypto.verify of the same RSA-2048 signature", value: round(ref, 3) },
      ratio: round(ref / p50, 3),
      target: 'within 3× of native crypto.verify (ratio ≥ 0.333)',
      met: ref / p50 >= 1 / 3,
      notes: `p99 ${round(percentile(t, 99), 2)} ms; includes parsing, the (kept) chain verdict, the RSA signature (node:crypto) and the payload checks`,
    },
  ];

  // A cold verifier per file: nothing kept from before, the whole chain judged.
  const at = Date.now();
  const hostile: Array<[string, string]> = [
    ['16384-bit signing key under the trusted root', withRandomSignature(payload(systemId), devSigner({ publicKey: hugePublicKey(16384) }).chain, 2048)],
    ['8192-bit signing key under the trusted root', withRandomSignature(payload(systemId), devSigner({ publicKey: hugePublicKey(8192) }).chain, 1024)],
    ['signing certificate signed with SHA-1', sign(payload(systemId), devSigner({ hash: 'sha1' }))],
    ['DigestInfo naming MD5', sign(payload(systemId), undefined, 'md5')],
    ['signing certificate without the license EKU', sign(payload(systemId), devSigner({ extKeyUsage: null }))],
    ['expired signing certificate', sign(payload(systemId, { issuedAt: iso(at - 400 * DAY), validFrom: iso(at - 400 * DAY) }), devSigner({ notBefore: new Date(at - 500 * DAY), notAfter: new Date(at - 100 * DAY) }))],
    ['invalid date (month 13)', sign(payload(systemId, { issuedAt: '2026-13-01T00:00:00Z' }))],
  ];
  for (const [name, file] of hostile) {
    const times = timeEach(20, () => {
      const cold = new LicenseVerifier({ trustedRoots: [DEVELOPMENT_ROOT], systemId, buildDate: buildInfo().buildDate, maxFutureMinutes: 5 });
      try {
        cold.verify(file, now);
        throw new Error(`hostile file accepted: ${name}`);
      } catch (e) {
        if (!isRefusal(e)) throw e;
      }
    });
    const worst = times[times.length - 1]!;
    rows.push({ name: `refusing a hostile file: ${name} (slowest of 20, cold)`, value: round(worst, 2), unit: 'ms', target: `≤ ${HOSTILE_BUDGET_MS} ms`, met: worst <= HOSTILE_BUDGET_MS });
  }
  return rows;
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.table(await bench());
