import type { Store, Tx } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import type { EventBus } from '../kernel/events.js';
import { isRefusal, refuse, type Text } from '../kernel/refusal.js';
import type { LicenseVerifier } from './verifier.js';
import { readPayload, splitRevocations, type LicensePayload } from './format.js';
import { checkDates, codeChanges, codeLines, modeAt, quotasIn, warningsFor, type Warning, type CodeChange, type CodeLine, type ForeignData, type Mode, type ModeState, type Quotas } from './modes.js';
import { LicenseConsumers, type HolderSource, type OveruseReport, type PlanStep, type UsageProvider } from './consumers.js';
import { Revocations } from './revocations.js';

// The parts of licensing, re-exported so that consumers import one module.
export type { CodeChange, CodeLine, Mode } from './modes.js';
export type { Holder, OveruseReport, PlanStep } from './consumers.js';

/**
 * What licensing needs of an audit log: one entry written inside the
 * transaction of the change it records. The core's audit log satisfies it;
 * licensing does not depend on the core.
 */
export interface AuditTrail {
  append(tx: Tx, actor: string, action: string, subject: string, details?: Record<string, unknown>): Promise<void>;
}

interface LicenseRow {
  id: number;
  license_id: string;
  text: string;
  payload: string;
  state: string;
  staged_at: string;
  activated_at: string | null;
}

export interface StagedLicense {
  stageId: number;
  payload: LicensePayload;
  changes: CodeChange[];
  /** Codes the file grants less of than is in use: activation is refused until they are freed. */
  overused: OveruseReport[];
  plan: PlanStep[];
}

export interface LicensingOptions {
  graceDays: number;
  /** The data folder: the revocation list is kept there too (a restored database does not lose it). */
  dataDir?: string;
  /** Why the public development root is trusted ('checkout', 'config'), or null: said loudly in status. */
  developmentTrust?: 'checkout' | 'config' | null;
}

/**
 * The license in force, the mode it puts the appliance in, and changing it
 * (stage → see what changes → activate). Knows nothing of HTTP.
 */
export class Licensing {
  private current: { rowId: number; payload: LicensePayload; activatedAt: string | null; invalid: { code: string } & Text | null } | null = null;
  private readonly consumers = new LicenseConsumers();
  private readonly revocations: Revocations;
  private lastMode: Mode | null = null;
  /**
   * The database was made on another appliance (restored or copied): Entry mode
   * until a license for this host is activated, which binds the data to it.
   */
  private foreign: (ForeignData & { bind: (tx: Tx) => Promise<void> }) | null = null;
  /** A file accepted ahead of its valid-from; the scheduler activates it on that day. */
  private scheduledLicense: { rowId: number; licenseId: string; activatesAt: string; issuedAt: string } | null = null;

  constructor(
    private readonly store: Store,
    private readonly verifier: LicenseVerifier,
    private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly audit: AuditTrail,
    private readonly opts: LicensingOptions,
  ) {
    this.revocations = new Revocations(store, verifier, clock, opts.dataDir);
  }

  /** At start: the newest of the revocation list kept in the database and the one kept beside it. */
  async loadRevocations(): Promise<void> {
    await this.revocations.load();
  }

  revocationList(): { issuedAt: string; serials: number; licenseIds: number } | null {
    return this.revocations.summary();
  }

  /**
   * A revocation list from the vendor (with a license file or the online
   * check): verified, kept if newer than the one in force (in the database and
   * beside it), and the license in force is checked against it again.
   */
  async applyRevocations(text: string, by: string): Promise<{ applied: boolean; issuedAt: string }> {
    const r = await this.revocations.apply(text, (tx, list) => this.audit.append(tx, by, 'license.revocations', list.issuedAt, { serials: list.serials.length, licenseIds: list.licenseIds.length }));
    if (r.applied) await this.load();
    return r;
  }

  /** At start: the data belongs to `dataSystemId`, this host is `systemId`; `bind` makes the data this host's (inside the activating write). */
  setForeignData(f: { dataSystemId: string; systemId: string; bind: (tx: Tx) => Promise<void> } | null): void {
    this.foreign = f;
  }

  addUsageProvider(p: UsageProvider): void {
    this.consumers.addUsageProvider(p);
  }

  addHolderSource(s: HolderSource): void {
    this.consumers.addHolderSource(s);
  }

  setGraceDays(days: number): void {
    this.opts.graceDays = days;
    this.checkMode();
  }

  /** Load the license in force and check it again: a new build or a changed trust store may have made it invalid. */
  async load(): Promise<void> {
    const row = await this.store.get<LicenseRow>("SELECT * FROM licenses WHERE state = 'active'");
    if (!row) {
      this.current = null;
    } else {
      let invalid: ({ code: string } & Text) | null = null;
      // What takes effect is what the signature covers: the payload column is only a copy (anyone
      // with the database can edit it), shown when the file no longer verifies and Entry applies.
      let payload: LicensePayload;
      try {
        payload = this.verifier.verify(row.text, this.clock.now(), 'stored').payload;
      } catch (e) {
        if (!isRefusal(e)) throw e;
        invalid = { code: e.code, ...e.text };
        payload = readPayload(JSON.parse(row.payload));
      }
      this.current = { rowId: row.id, payload, activatedAt: row.activated_at, invalid };
    }
    const sched = await this.store.get<LicenseRow>("SELECT * FROM licenses WHERE state = 'scheduled'");
    const sp = sched ? readPayload(JSON.parse(sched.payload)) : null;
    this.scheduledLicense = sched && sp ? { rowId: sched.id, licenseId: sp.licenseId, activatesAt: sp.validFrom, issuedAt: sp.issuedAt } : null;
    this.checkMode();
  }

  /** The installed license's payload even when it is not usable (the online check asks for its successor). */
  installed(): LicensePayload | null {
    return this.current?.payload ?? null;
  }

  scheduled(): { rowId: number; licenseId: string; activatesAt: string; issuedAt: string } | null {
    return this.scheduledLicense;
  }

  active(): LicensePayload | null {
    return this.current && !this.current.invalid ? this.current.payload : null;
  }

  mode(now = this.clock.now()): ModeState {
    return modeAt(this.current, this.foreign, this.opts.graceDays, now);
  }

  /** The quantities in force now: the license's in Licensed and Grace, the Entry allowance otherwise. */
  quotas(now = this.clock.now()): Quotas {
    return quotasIn(this.mode(now).mode, this.current?.payload ?? null);
  }

  /** Emit mode.changed when time (or an activation) moved the appliance into another mode. */
  checkMode(): ModeState {
    const m = this.mode();
    if (this.lastMode !== null && this.lastMode !== m.mode) this.bus.emit('mode.changed', { from: this.lastMode, to: m.mode, reason: m.reason.en });
    this.lastMode = m.mode;
    return m;
  }

  async usage(q: Pick<Tx, 'get' | 'all'> = this.store): Promise<Record<string, number>> {
    return this.consumers.usage(q);
  }

  /** Every code the license (or Entry) knows, with used and total. */
  async codeLines(): Promise<CodeLine[]> {
    return codeLines(this.quotas(), await this.usage(), this.current?.payload ?? null);
  }

  /** Code by code: what the license in force grants, what `next` grants, what is used, what must go. */
  diff(next: LicensePayload | null, used: Record<string, number>, now = this.clock.now()): CodeChange[] {
    return codeChanges(this.quotas(now), next, used, this.current?.payload ?? null);
  }

  /** Verify a file and keep it staged; report what would change. The license in force is untouched. */
  async stage(text: string | Buffer, by: string): Promise<StagedLicense> {
    // A revocation list may come with the file: it is applied first, so it also judges this file.
    const whole = typeof text === 'string' ? text : text.includes('-----BEGIN PBXD REVOCATION LIST-----') ? text.toString('utf8') : null;
    if (whole !== null) {
      const parts = splitRevocations(whole);
      if (parts.revocations !== null) {
        try {
          await this.applyRevocations(parts.revocations, by);
        } catch (e) {
          if (isRefusal(e)) this.bus.emit('license.refused', { refusal: e.toJSON(), by });
          throw e;
        }
        text = parts.license;
      }
    }
    const now = this.clock.now();
    let verified;
    try {
      verified = this.verifier.verify(text, now);
      // A file valid from a later day is accepted: activating it schedules it.
      checkDates(verified.payload, now, this.opts.graceDays, true);
    } catch (e) {
      if (isRefusal(e)) this.bus.emit('license.refused', { refusal: e.toJSON(), by });
      throw e;
    }
    const { payload, text: str } = verified;
    const stageId = await this.store.write(async (tx) => {
      // One staged file at a time: a new upload replaces the previous draft.
      await tx.run("UPDATE licenses SET state = 'discarded' WHERE state = 'staged'");
      const r = await tx.run("INSERT INTO licenses (license_id, text, payload, state, staged_at, staged_by) VALUES (?, ?, ?, 'staged', ?, ?)", [
        payload.licenseId, str, JSON.stringify(payload), now.toISOString(), by,
      ]);
      await this.audit.append(tx, by, 'license.stage', payload.licenseId, { edition: payload.edition, kind: payload.kind });
      tx.afterCommit(() => this.bus.emit('license.staged', { stageId: r.lastID, licenseId: payload.licenseId, by }));
      return r.lastID;
    });
    return { stageId, ...(await this.report(payload, now)) };
  }

  /** The change code by code, and for over-used codes their holders and a proposed removal plan. */
  private async report(payload: LicensePayload, now = this.clock.now()) {
    const changes = this.diff(payload, await this.usage(), now);
    const over = await this.consumers.overuse(this.store, changes);
    return { payload, changes, overused: over.codes, plan: over.plan };
  }

  async staged(stageId?: number): Promise<StagedLicense | null> {
    const row = await this.store.get<LicenseRow>(
      stageId === undefined ? "SELECT * FROM licenses WHERE state = 'staged' ORDER BY id DESC LIMIT 1" : "SELECT * FROM licenses WHERE state = 'staged' AND id = ?",
      stageId === undefined ? [] : [stageId],
    );
    if (!row) return null;
    return { stageId: row.id, ...(await this.report(readPayload(JSON.parse(row.payload)))) };
  }

  /**
   * Make a staged file the license in force, in one transaction with its audit
   * entry: after a crash, exactly the old or the new license is in force.
   */
  async activate(stageId: number, by: string, plan: PlanStep[] = []): Promise<{ payload: LicensePayload; changes: CodeChange[]; activatesAt?: string }> {
    const now = this.clock.now();
    const result = await this.store.write(async (tx) => {
      const row = await tx.get<LicenseRow>("SELECT * FROM licenses WHERE id = ? AND state IN ('staged', 'scheduled')", [stageId]);
      if (!row) throw refuse('LIC_STAGE_NOT_FOUND', { stageId });
      // Checked again as it takes effect: revoked, or signed by a root no longer trusted, since it was staged?
      const payload = this.verifier.verify(row.text, now, 'stored').payload;
      if (new Date(payload.validFrom) > now) return this.schedule(tx, row, payload, by);
      checkDates(payload, now, this.opts.graceDays);
      // The plan (if any) releases assignments in this same transaction; then
      // nothing may be left over-used, or the whole activation is refused.
      await this.consumers.applyPlan(tx, plan, this.quotas().perUser, by);
      const changes = this.diff(payload, await this.usage(tx), now);
      const over = await this.consumers.overuse(tx, changes);
      if (over.codes.length) throw refuse('LIC_OVERUSED', over as never);
      await tx.run("UPDATE licenses SET state = 'superseded' WHERE state = 'active'");
      await tx.run("UPDATE licenses SET state = 'active', activated_at = ?, activated_by = ? WHERE id = ?", [now.toISOString(), by, stageId]);
      await this.audit.append(tx, by, row.state === 'scheduled' ? 'license.activate.scheduled' : 'license.activate', payload.licenseId, {
        edition: payload.edition,
        kind: payload.kind,
        changes: changes.filter((c) => c.old !== c.new).map((c) => `${c.code} ${c.old}→${c.new}`),
        ...(plan.length ? { released: plan.map((p) => `${p.code}:${p.kind}:${p.id}`) } : {}),
        ...(this.foreign ? { rehostedFrom: this.foreign.dataSystemId, rehostOf: payload.rehostOf ?? null } : {}),
      });
      // In force from here on, inside this write: every later write of the same group
      // commit checks its limits against the new license; a rollback restores the old one.
      const before = { current: this.current, scheduled: this.scheduledLicense, foreign: this.foreign };
      // A license for this host on data from another appliance (a rehost license names it): the data is this host's now.
      if (this.foreign) await this.foreign.bind(tx);
      this.current = { rowId: stageId, payload, activatedAt: now.toISOString(), invalid: null };
      if (this.scheduledLicense?.rowId === stageId) this.scheduledLicense = null;
      this.foreign = null;
      tx.onRollback(() => {
        this.current = before.current;
        this.scheduledLicense = before.scheduled;
        this.foreign = before.foreign;
      });
      tx.afterCommit(() => {
        this.checkMode();
        this.bus.emit('license.activated', { licenseId: payload.licenseId, by });
      });
      return { payload, changes };
    });
    return result;
  }

  /**
   * Keep a file valid from a later day as 'scheduled' (one at most; a newer one
   * replaces it). The over-use rules are applied when it is activated on that day.
   */
  private async schedule(tx: Tx, row: LicenseRow, payload: LicensePayload, by: string) {
    await tx.run("UPDATE licenses SET state = 'discarded' WHERE state = 'scheduled' AND id <> ?", [row.id]);
    await tx.run("UPDATE licenses SET state = 'scheduled' WHERE id = ?", [row.id]);
    await this.audit.append(tx, by, 'license.schedule', payload.licenseId, { activatesAt: payload.validFrom, edition: payload.edition });
    tx.afterCommit(() => {
      this.scheduledLicense = { rowId: row.id, licenseId: payload.licenseId, activatesAt: payload.validFrom, issuedAt: payload.issuedAt };
      this.bus.emit('license.scheduled', { licenseId: payload.licenseId, activatesAt: payload.validFrom, by });
    });
    return { payload, changes: this.diff(payload, await this.usage(tx)), activatesAt: payload.validFrom };
  }

  /** Activate the scheduled file once its day has come (the scheduler calls this). */
  async activateDue(by: string): Promise<{ licenseId: string } | null> {
    const s = this.scheduledLicense;
    if (!s || new Date(s.activatesAt) > this.clock.now()) return null;
    await this.activate(s.rowId, by);
    return { licenseId: s.licenseId };
  }

  /** Stage and activate in one go (the CLI's `license install`, renewals). */
  async install(text: string | Buffer, by: string, plan: PlanStep[] = []): Promise<{ payload: LicensePayload; changes: CodeChange[]; activatesAt?: string }> {
    const staged = await this.stage(text, by);
    return this.activate(staged.stageId, by, plan);
  }

  /** What status says loudly besides the mode. */
  warnings(): Warning[] {
    return warningsFor(this.opts.developmentTrust ?? null, this.foreign);
  }

  status() {
    const p = this.current?.payload ?? null;
    return {
      developmentRootTrusted: this.opts.developmentTrust ?? null,
      foreignData: this.foreign ? { systemId: this.foreign.dataSystemId } : null,
      revocationList: this.revocationList(),
      warnings: this.warnings(),
      licenseId: p?.licenseId ?? null,
      edition: this.active() ? p!.edition : 'Entry',
      trial: p?.trial ?? false,
      kind: p?.kind ?? null,
      provisional: p?.kind === 'provisional',
      operator: p?.operator ?? null,
      validFrom: p?.validFrom ?? null,
      updateServiceUntil: p?.updateServiceUntil ?? null,
      activatedAt: this.current?.activatedAt ?? null,
      scheduled: this.scheduledLicense ? { licenseId: this.scheduledLicense.licenseId, activatesAt: this.scheduledLicense.activatesAt } : null,
      ...this.mode(),
    };
  }
}
