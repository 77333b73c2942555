import { createHash, createPrivateKey, createPublicKey, generateKeyPair, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Store } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import type { Licensing } from './licensing.js';
import { canonicalJson } from './format.js';
import { defineRefusals, entry, fixed } from '../kernel/refusal.js';
import { defineMessages, type Message } from '../kernel/messages.js';

/** What a peaks run recorded (the job's result): license codes and counts. */
const say = defineMessages({
  'usage.peaks': { en: 'peaks of {month}: {peaks}', de: 'Höchststände im Monat {month}: {peaks}' },
});

export const refuse = defineRefusals({
  USAGE_MONTH_INVALID: entry<{ month: string }>(400,
    (d) => ({ en: `"${d.month}" is not a month; write YYYY-MM.`, de: `"${d.month}" ist kein Monat; schreiben Sie JJJJ-MM.` }),
    fixed({ en: 'Give the month as YYYY-MM, e.g. 2026-11.', de: 'Geben Sie den Monat als JJJJ-MM an, z. B. 2026-11.' })),
});

const USAGE_REPORT_FORMAT = 'pbxd-usage-report/1';

interface UsageReport {
  format: typeof USAGE_REPORT_FORMAT;
  systemId: string;
  generatedAt: string;
  license: { licenseId: string; edition: string; kind: string; quantities: Record<string, number>; perUser: Record<string, number> } | null;
  /** Peak use per code and month. */
  months: Array<{ month: string; peaks: Record<string, number> }>;
  /** The appliance's own public key (SPKI PEM); the vendor pins it at first contact. */
  publicKey: string;
  /** One hash of the host fingerprint (never its components): two appliances sending the same system id from different hosts show. */
  hostFingerprint?: string;
}

export interface SignedUsageReport {
  report: UsageReport;
  /** RSA PKCS#1 v1.5 / SHA-256 over the canonical JSON of `report`, base64. */
  signature: string;
}

export function keyFingerprint(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return 'SHA256:' + createHash('sha256').update(der).digest('hex').match(/.{2}/g)!.join(':');
}

/** Vendor side (pbx-license verify-usage): is this report signed by the key it names? */
export function verifyUsageReport(text: string): { ok: true; report: UsageReport; fingerprint: string } | { ok: false; problem: string } {
  let doc: SignedUsageReport;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  const r = doc?.report;
  if (!r || r.format !== USAGE_REPORT_FORMAT || typeof doc.signature !== 'string' || typeof r.publicKey !== 'string') return { ok: false, problem: `not a ${USAGE_REPORT_FORMAT} document` };
  let ok = false;
  try {
    ok = verify('sha256', Buffer.from(canonicalJson(r), 'utf8'), createPublicKey(r.publicKey), Buffer.from(doc.signature, 'base64'));
  } catch (e) {
    return { ok: false, problem: `the public key cannot be read (${(e as Error).message})` };
  }
  if (!ok) return { ok: false, problem: 'the signature does not match the contents: the report was altered' };
  return { ok: true, report: r, fingerprint: keyFingerprint(r.publicKey) };
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** Daily peaks are kept this long (the overview chart shows 30 days). */
const DAILY_KEPT_DAYS = 35;

/**
 * Monthly peaks of what is used (users, devices, per-user licenses), and the
 * report of them signed with the appliance's own key pair (created at first
 * start, private key readable only by pbxd).
 */
export class UsageReports {
  private constructor(
    private readonly store: Store,
    private readonly licensing: Licensing,
    private readonly clock: Clock,
    private readonly systemId: string,
    private readonly privateKey: KeyObject,
    readonly publicKeyPem: string,
    private readonly hostFingerprint: string | null,
  ) {}

  static async open(o: { store: Store; licensing: Licensing; clock: Clock; systemId: string; dataDir: string; hostFingerprint?: string }): Promise<UsageReports> {
    const dir = join(o.dataDir, 'keys');
    const file = join(dir, 'appliance.key');
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // node:crypto (OpenSSL) rather than forge: native key generation keeps the first start fast.
      const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
      writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600, flag: 'wx' });
    }
    const privateKey = createPrivateKey(readFileSync(file, 'utf8'));
    const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }) as string;
    return new UsageReports(o.store, o.licensing, o.clock, o.systemId, privateKey, publicKeyPem, o.hostFingerprint ?? null);
  }

  get fingerprint(): string {
    return keyFingerprint(this.publicKeyPem);
  }

  /** Raise this month's peaks to what is in use now. */
  async recordPeaks(): Promise<Message> {
    const now = this.clock.now();
    const month = now.toISOString().slice(0, 7);
    const lines = await this.licensing.codeLines();
    const used = JSON.stringify(lines.map((l) => [l.code, l.used]));
    const day = now.toISOString().slice(0, 10);
    // One statement for every code: it runs in the write queue beside phones' license claims.
    await this.store.write(async (tx) => {
      await tx.run(
        `INSERT INTO usage_peaks (month, code, peak, at) SELECT ?1, value ->> '$[0]', value ->> '$[1]', ?2 FROM json_each(?3) WHERE true
         ON CONFLICT(month, code) DO UPDATE SET peak = excluded.peak, at = excluded.at WHERE excluded.peak > usage_peaks.peak`,
        [month, now.toISOString(), used],
      );
      // The same per day for the overview chart; days older than the chart's window go.
      await tx.run(
        `INSERT INTO usage_daily_peaks (day, code, peak) SELECT ?1, value ->> '$[0]', value ->> '$[1]' FROM json_each(?2) WHERE true
         ON CONFLICT(day, code) DO UPDATE SET peak = excluded.peak WHERE excluded.peak > usage_daily_peaks.peak`,
        [day, used],
      );
      await tx.run('DELETE FROM usage_daily_peaks WHERE day < ?', [new Date(now.getTime() - DAILY_KEPT_DAYS * 86_400_000).toISOString().slice(0, 10)]);
    });
    return say('usage.peaks', { month, peaks: lines.map((l) => `${l.code} ${l.used}`).join(', ') });
  }

  /** Peak users and devices per day over the last `days` days (oldest first), for the overview chart. */
  async dailyPeaks(days = 30): Promise<Array<{ day: string; users: number; devices: number }>> {
    const since = new Date(this.clock.now().getTime() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
    const rows = await this.store.all<{ day: string; users: number; devices: number }>(
      `SELECT day, SUM(CASE WHEN code = 'users' THEN peak ELSE 0 END) AS users, SUM(CASE WHEN code LIKE 'devices.%' THEN peak ELSE 0 END) AS devices
         FROM usage_daily_peaks WHERE day >= ? GROUP BY day ORDER BY day`,
      [since],
    );
    return rows;
  }

  async report(month?: string): Promise<SignedUsageReport> {
    if (month !== undefined && !MONTH.test(month)) throw refuse('USAGE_MONTH_INVALID', { month });
    await this.recordPeaks();
    const rows = await this.store.all<{ month: string; code: string; peak: number }>(
      `SELECT month, code, peak FROM usage_peaks ${month ? 'WHERE month = ?' : ''} ORDER BY month, code`,
      month ? [month] : [],
    );
    const months = new Map<string, Record<string, number>>();
    for (const r of rows) (months.get(r.month) ?? months.set(r.month, {}).get(r.month)!)[r.code] = r.peak;
    const p = this.licensing.installed();
    const report: UsageReport = {
      format: USAGE_REPORT_FORMAT,
      systemId: this.systemId,
      generatedAt: this.clock.now().toISOString(),
      license: p ? { licenseId: p.licenseId, edition: p.edition, kind: p.kind, quantities: p.quantities, perUser: p.perUser } : null,
      months: [...months].map(([m, peaks]) => ({ month: m, peaks })),
      publicKey: this.publicKeyPem,
      ...(this.hostFingerprint ? { hostFingerprint: this.hostFingerprint } : {}),
    };
    const signature = sign('sha256', Buffer.from(canonicalJson(report), 'utf8'), this.privateKey).toString('base64');
    return { report, signature };
  }
}
