import type { Store, Tx } from '../../store/store.js';
import type { Clock } from '../../kernel/clock.js';
import type { Licensing } from '../../licensing/licensing.js';
import type { Logger } from '../../kernel/log.js';
import { outcomeMessage } from '../provisioning-outcomes.js';
import type { DeviceMemory } from './memory.js';
import type { ClaimResult, DeviceFamilies, DeviceRecord } from './model.js';

/** A claim batch that ends this soon after the last one means a storm: the next gathers CLAIM_GATHER_MS first. */
const CLAIM_STORM_MS = 50;
const CLAIM_GATHER_MS = 4;

/**
 * The support licenses of desk phones, claimed on the provisioning hot path:
 * each claim a check-then-write inside one `store.write`, batched under load.
 * Reads the memory copy for the quick answers and updates it after commit.
 */
export class SupportClaims {
  /** Claims waiting for the next batch (see decideClaims). */
  private readonly claims: Array<{ mac: string; resolve: (r: ClaimResult) => void; reject: (e: unknown) => void }> = [];
  private claimsScheduled = false;
  private claimsWriting = false;
  private lastClaimBatchEnd = -Infinity;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly licensing: Licensing,
    private readonly log: Logger,
    private readonly families: DeviceFamilies,
    private readonly memory: DeviceMemory,
    /** Tells listeners which devices changed (after the write committed). */
    private readonly changed: (macs: string[], action: string) => void,
  ) {}

  /** Quick answer without a write: no license can be had now and this device already waits (so it is recorded). */
  private surelyRefused(d: DeviceRecord, code: string): boolean {
    if (!d.waitingSince) return false;
    const quota = this.licensing.quotas().quantities[code] ?? 0;
    return (this.memory.held.get(code) ?? 0) >= quota;
  }

  /**
   * The device asks for its configuration: make sure it may have it. Cisco and
   * Unify phones take one support license of their vendor the first time and
   * keep it. With none free the device is marked waiting (first time only), and
   * waiting devices get licenses in the order they started waiting: a phone may
   * take a free license only if no phone that waits longer is still waiting.
   */
  async claim(mac: string): Promise<ClaimResult> {
    const d = this.memory.index.get(mac);
    if (!d) return { ok: false, reason: 'unknown', detail: outcomeMessage('refused.unknown') };
    if (d.blocked) return { ok: false, reason: 'blocked', detail: outcomeMessage('refused.blocked') };
    if (!d.userName) return { ok: false, reason: 'unassigned', detail: outcomeMessage('refused.unassigned') };
    const code = this.families.licenseCode[d.vendor];
    if (!code || d.licenseCode) return { ok: true, newly: false };
    if (this.surelyRefused(d, code)) return { ok: false, reason: 'license', detail: this.licenseDetail(code) };
    return new Promise<ClaimResult>((resolve, reject) => {
      this.claims.push({ mac, resolve, reject });
      this.scheduleClaims();
    });
  }

  /**
   * Claims that arrive together (a boot storm) are decided in one write: two
   * statements for the whole batch (one read, one update) instead of several
   * per phone. Under load every statement waits for a turn of the event loop,
   * so what counts is statements per claim. Inside the write, each phone is
   * judged in arrival order exactly as if alone: it may take a license only
   * if used + (phones waiting longer) < quota.
   */
  private scheduleClaims(): void {
    if (this.claimsScheduled || this.claimsWriting || this.claims.length === 0) return;
    this.claimsScheduled = true;
    const decide = () => {
      this.claimsScheduled = false;
      this.decideClaims();
    };
    // A lone phone is decided at once; in a storm (a batch just ended) claims gather a moment longer.
    if (performance.now() - this.lastClaimBatchEnd < CLAIM_STORM_MS) setTimeout(decide, CLAIM_GATHER_MS);
    else setImmediate(decide);
  }

  /** One claim write at a time: claims that arrive while it commits form the next batch (it grows with the load). */
  private decideClaims(): void {
    this.claimsWriting = true;
    const batch = this.claims.splice(0);
    const macs = [...new Set(batch.map((c) => c.mac))];
    this.store
      .write((tx) => this.claimIn(tx, macs))
      .then(
        (results) => batch.forEach((c) => c.resolve(results.get(c.mac)!)),
        (e) => batch.forEach((c) => c.reject(e)),
      )
      .finally(() => {
        this.claimsWriting = false;
        this.lastClaimBatchEnd = performance.now();
        this.scheduleClaims();
      });
  }

  private async claimIn(tx: Tx, macs: string[]): Promise<Map<string, ClaimResult>> {
    const now = this.clock.now().toISOString();
    const granted = new Map<string, string[]>(); // code → macs
    const waiters: string[] = [];
    const results = new Map<string, ClaimResult>();
    // One round trip: the batch's devices and the licenses in use per code (kept by triggers, not counted).
    const rows = await tx.all<{ kind: 'device' | 'used'; mac: string; vendor: string; blocked: number; user_name: string | null; license_code: string | null; waiting_since: string | null; n: number }>(
      `SELECT 'device' AS kind, mac, vendor, blocked, user_name, license_code, waiting_since, 0 AS n FROM devices WHERE mac IN (SELECT value FROM json_each(?1))
       UNION ALL SELECT 'used', '', '', 0, NULL, code, NULL, used FROM devices_licensed`,
      [JSON.stringify(macs)],
    );
    const byMac = new Map(rows.filter((r) => r.kind === 'device').map((r) => [r.mac, r]));
    const used = new Map(rows.filter((r) => r.kind === 'used').map((r) => [r.license_code!, r.n]));
    const quotas = this.licensing.quotas().quantities;
    // How many phones wait ahead of one, counted through the waiting index and capped: all that matters
    // is whether fewer wait than there are free licenses, and a capped count still says "no". So a claim
    // reads no waiting rows, however long the queue.
    const cap = new Map([...used].map(([code, n]) => [code, Math.max(0, (quotas[code] ?? 0) - n) + macs.length + 1]));
    const capOf = (code: string) => cap.get(code) ?? (quotas[code] ?? 0) + macs.length + 1;
    const WAITING = 'FROM devices INDEXED BY devices_waiting_order WHERE vendor = ? AND waiting_since IS NOT NULL AND license_code IS NULL AND blocked = 0 AND user_name IS NOT NULL';
    const countWaiting = async (vendor: string, code: string, key: { since: string; mac: string } | null) =>
      (await tx.get<{ n: number }>(
        `SELECT COUNT(*) AS n FROM (SELECT 1 ${WAITING} ${key ? 'AND (waiting_since, mac) < (?, ?)' : ''} LIMIT ?)`,
        key ? [vendor, key.since, key.mac, capOf(code)] : [vendor, capOf(code)],
      ))!.n;
    const allWaiting = new Map<string, number>(); // the table's queue length per vendor (not changed until the batch writes)
    // Decisions earlier in this batch move the queue: waiting phones granted leave it, new waiters join its end.
    const left = new Map<string, Array<{ since: string; mac: string }>>();
    const joined = new Map<string, Array<{ since: string; mac: string }>>();
    const aheadOf = (w: { since: string; mac: string }, since: string | null, mac: string) => since === null || w.since < since || (w.since === since && w.mac < mac);
    for (const mac of macs) {
      const r = byMac.get(mac);
      const code = r && this.families.licenseCode[r.vendor];
      if (!r) results.set(mac, { ok: false, reason: 'unknown', detail: outcomeMessage('refused.unknown') });
      else if (r.blocked) results.set(mac, { ok: false, reason: 'blocked', detail: outcomeMessage('refused.blocked') });
      else if (!r.user_name) results.set(mac, { ok: false, reason: 'unassigned', detail: outcomeMessage('refused.unassigned') });
      else if (!code || r.license_code) results.set(mac, { ok: true, newly: false });
      else {
        const vendor = r.vendor;
        const since = r.waiting_since;
        let inTable: number;
        if (since !== null) inTable = await countWaiting(vendor, code, { since, mac });
        else {
          if (!allWaiting.has(vendor)) allWaiting.set(vendor, await countWaiting(vendor, code, null));
          inTable = allWaiting.get(vendor)!;
        }
        const ahead = inTable - (left.get(vendor) ?? []).filter((w) => aheadOf(w, since, mac)).length + (joined.get(vendor) ?? []).filter((w) => aheadOf(w, since, mac)).length;
        const n = used.get(code) ?? 0;
        const quota = quotas[code] ?? 0;
        if (n + ahead < quota) {
          used.set(code, n + 1);
          if (since !== null) (left.get(vendor) ?? left.set(vendor, []).get(vendor)!).push({ since, mac });
          (granted.get(code) ?? granted.set(code, []).get(code)!).push(mac);
          results.set(mac, { ok: true, newly: true });
        } else {
          if (since === null) {
            waiters.push(mac);
            (joined.get(vendor) ?? joined.set(vendor, []).get(vendor)!).push({ since: now, mac });
          }
          results.set(mac, { ok: false, reason: 'license', detail: outcomeMessage(ahead ? 'refused.license.queue' : 'refused.license.used', { license: code, used: n, quota, ...(ahead ? { ahead } : {}) }) });
        }
      }
    }
    // One statement for the whole batch: granted devices take their code, new waiters note since when.
    const changes = [...[...granted].flatMap(([code, list]) => list.map((mac) => ({ mac, code }))), ...waiters.map((mac) => ({ mac, code: null }))];
    if (changes.length)
      await tx.run(
        `UPDATE devices SET license_code = j.value ->> '$.code',
           licensed_at = CASE WHEN j.value ->> '$.code' IS NULL THEN licensed_at ELSE ?1 END,
           waiting_since = CASE WHEN j.value ->> '$.code' IS NULL THEN ?1 ELSE NULL END
         FROM json_each(?2) j WHERE devices.mac = j.value ->> '$.mac'`,
        [now, JSON.stringify(changes)],
      );
    tx.afterCommit(() => {
      const licensed: string[] = [];
      for (const [code, list] of granted)
        for (const mac of list) {
          const cur = this.memory.index.get(mac);
          if (cur) this.memory.remember(mac, { ...cur, licenseCode: code, waitingSince: null });
          licensed.push(mac);
        }
      for (const mac of waiters) {
        const cur = this.memory.index.get(mac);
        if (cur) this.memory.remember(mac, { ...cur, waitingSince: now });
      }
      const list = (macs: string[]) => (macs.length <= 5 ? macs.join(',') : `${macs.length} devices`);
      if (licensed.length) (this.changed(licensed, 'licensed'), this.log.info('support license taken', { devices: list(licensed) }));
      if (waiters.length) (this.changed(waiters, 'waiting'), this.log.notice('waiting for a support license', { devices: list(waiters) }));
    });
    return results;
  }

  private licenseDetail(code: string) {
    return outcomeMessage('refused.license.used', { license: code, used: this.memory.held.get(code) ?? 0, quota: this.licensing.quotas().quantities[code] ?? 0 });
  }
}
