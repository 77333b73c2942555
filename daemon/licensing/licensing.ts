import type { Store, Tx } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import { DAY_MS } from '../kernel/clock.js';
import type { EventBus } from '../kernel/events.js';
import type { AuditLog } from '../core/audit.js';
import { isRefusal, refuse, type Text } from '../kernel/refusal.js';
import type { LicenseVerifier } from './verifier.js';
import { codeDict, labelOf, readPayload, splitRevocations, type LicensePayload, type RevocationList } from './format.js';
import { readFileSync } from 'node:fs';
import { writeAtomically } from './kept-file.js';
import { join } from 'node:path';
import { readMeta, writeMeta } from '../store/meta.js';

export type Mode = 'licensed' | 'grace' | 'entry';

export interface ModeState {
  mode: Mode;
  /** Why: a stable code and a sentence in both languages. */
  reason: { code: string } & Text;
  expiresAt: string | null;
  graceEndsAt: string | null;
  graceDaysLeft: number | null;
}

/** What Entry mode allows: a handful of users, nothing else. */
export const ENTRY_QUANTITIES: Readonly<Record<string, number>> = Object.freeze({ users: 5 });

export type CodeScope = 'server' | 'user';

export interface CodeLine {
  code: string;
  scope: CodeScope;
  label: { en: string; de: string };
  used: number;
  total: number;
}

export interface CodeChange {
  code: string;
  scope: CodeScope;
  label: { en: string; de: string };
  old: number;
  new: number;
  used: number;
  /** How many assignments must be released before this file can be activated. */
  toRemove: number;
}

/**
 * A feature that consumes licensed quantities (users, per-user licenses,
 * devices, …) reports how many of each code are in use. It is asked inside the
 * activation transaction, so the count and the switch cannot race.
 */
export type UsageProvider = (q: Pick<Tx, 'get' | 'all'>) => Promise<Record<string, number>>;

/** Who holds a code: a user (per-user licenses, seats), a device (support licenses), a resource. */
export interface Holder {
  kind: string;
  id: string;
  name: string;
  /** When it was last active; the plan releases the least recently active first. */
  lastActive: string | null;
}

/**
 * The feature that owns a code tells who holds it, and releases one holding
 * (inside the activation transaction) when the admin applies a removal plan.
 */
export interface HolderSource {
  /** Whether this source owns `code` (scope 'user' marks per-user codes). */
  codes: (code: string, scope: CodeScope) => boolean;
  holders(q: Pick<Tx, 'get' | 'all'>, code: string, limit: number): Promise<Holder[]>;
  release(tx: Tx, holder: Pick<Holder, 'kind' | 'id'>, code: string, by: string): Promise<void>;
}

/** One step of a removal plan: release `code` from the holder `kind`/`id`. */
export interface PlanStep {
  kind: string;
  id: string;
  code: string;
}

export interface OveruseReport {
  code: string;
  label: { en: string; de: string };
  used: number;
  newTotal: number;
  toRemove: number;
  holders: Holder[];
}

/**
 * The server codes to list: those of the license, and every code a feature
 * counts (its usage provider reports it, even at 0). So after a fall to Entry
 * what exists is still counted, and a new file that does not name a code in
 * use is an over-use like any other — without licensing knowing the features.
 */
function serverCodes(used: Record<string, number>, perUser: Set<string>, ...licensed: Array<Record<string, number>>): Set<string> {
  return new Set([...Object.keys(ENTRY_QUANTITIES), ...licensed.flatMap((q) => Object.keys(q)), ...Object.keys(used).filter((c) => !perUser.has(c))]);
}

const NOTHING_REVOKED = { serials: new Set<string>(), licenseIds: new Set<string>() };
export const REVOCATIONS_FILE = 'revocations.txt';

/** How many holders of an over-used code are listed (and the plan draws from). */
const HOLDERS_LISTED = 200;

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

/** Something an admin must see on every status view (CLI, API, web UI banner, metrics). */
export interface Warning extends Text {
  code: string;
}

/**
 * The license in force, the mode it puts the appliance in, and changing it
 * (stage → see what changes → activate). Knows nothing of HTTP.
 */
export class Licensing {
  private current: { rowId: number; payload: LicensePayload; activatedAt: string | null; invalid: { code: string } & Text | null } | null = null;
  private readonly usageProviders: UsageProvider[] = [];
  private readonly holderSources: HolderSource[] = [];
  private lastMode: Mode | null = null;
  /**
   * The database was made on another appliance (restored or copied): Entry mode
   * until a license for this host is activated, which binds the data to it.
   */
  private foreign: { dataSystemId: string; systemId: string; bind: (tx: Tx) => Promise<void> } | null = null;
  /** The vendor's revocation list in force (the newest seen), and its sets for the verifier. */
  private revocations: { list: RevocationList; text: string; serials: Set<string>; licenseIds: Set<string> } | null = null;
  /** A file accepted ahead of its valid-from; the scheduler activates it on that day. */
  private scheduledLicense: { rowId: number; licenseId: string; activatesAt: string; issuedAt: string } | null = null;

  constructor(
    private readonly store: Store,
    private verifier: LicenseVerifier,
    private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly audit: AuditLog,
    private readonly opts: LicensingOptions,
  ) {
    verifier.setRevocationSource(() => this.revocations ?? NOTHING_REVOKED);
  }

  // ── revocation list ──

  private get revocationFile(): string | null {
    return this.opts.dataDir ? join(this.opts.dataDir, REVOCATIONS_FILE) : null;
  }

  private keepRevocations(list: RevocationList, text: string): void {
    this.revocations = { list, text, serials: new Set(list.serials.map((x) => x.toUpperCase())), licenseIds: new Set(list.licenseIds) };
  }

  /** At start: the newest of the list kept in the database and the one kept beside it. */
  async loadRevocations(): Promise<void> {
    const kept = await readMeta(this.store, 'revocation_list');
    let fileText: string | null = null;
    try {
      fileText = this.revocationFile ? readFileSync(this.revocationFile, 'utf8') : null;
    } catch {
      /* none kept */
    }
    for (const text of [kept, fileText]) {
      if (!text) continue;
      try {
        const list = this.verifier.verifyRevocations(text, this.clock.now(), 'stored');
        if (!this.revocations || list.issuedAt > this.revocations.list.issuedAt) this.keepRevocations(list, text);
      } catch (e) {
        if (!isRefusal(e)) throw e; // a damaged copy is ignored; the other one (or none) stands
      }
    }
  }

  revocationList(): { issuedAt: string; serials: number; licenseIds: number } | null {
    const r = this.revocations;
    return r ? { issuedAt: r.list.issuedAt, serials: r.list.serials.length, licenseIds: r.list.licenseIds.length } : null;
  }

  /**
   * A revocation list from the vendor (with a license file or the online
   * check): verified, kept if newer than the one in force (in the database and
   * beside it), and the license in force is checked against it again.
   */
  async applyRevocations(text: string, by: string): Promise<{ applied: boolean; issuedAt: string }> {
    const list = this.verifier.verifyRevocations(text, this.clock.now());
    if (this.revocations && list.issuedAt <= this.revocations.list.issuedAt) return { applied: false, issuedAt: this.revocations.list.issuedAt };
    await this.store.write(async (tx) => {
      await writeMeta(tx, 'revocation_list', text);
      await this.audit.append(tx, by, 'license.revocations', list.issuedAt, { serials: list.serials.length, licenseIds: list.licenseIds.length });
    });
    if (this.revocationFile) writeAtomically(this.revocationFile, text);
    this.keepRevocations(list, text);
    await this.load();
    return { applied: true, issuedAt: list.issuedAt };
  }

  /** At start: the data belongs to `dataSystemId`, this host is `systemId`; `bind` makes the data this host's (inside the activating write). */
  setForeignData(f: { dataSystemId: string; systemId: string; bind: (tx: Tx) => Promise<void> } | null): void {
    this.foreign = f;
  }

  addUsageProvider(p: UsageProvider): void {
    this.usageProviders.push(p);
  }

  addHolderSource(s: HolderSource): void {
    this.holderSources.push(s);
  }

  /** Per over-used code: the numbers and who holds it, plus a proposed plan (least recently active first). */
  async overuse(q: Pick<Tx, 'get' | 'all'>, changes: CodeChange[]): Promise<{ codes: OveruseReport[]; plan: PlanStep[] }> {
    const codes: OveruseReport[] = [];
    const plan: PlanStep[] = [];
    // Per-user codes first: releasing a seat takes the user's licenses along, so
    // a plan that released seats first would find those licenses already gone.
    const over = changes.filter((x) => x.toRemove > 0).sort((a, b) => (a.scope === b.scope ? 0 : a.scope === 'user' ? -1 : 1));
    for (const c of over) {
      const source = this.holderSources.find((s) => s.codes(c.code, c.scope));
      const holders = source ? await source.holders(q, c.code, Math.max(HOLDERS_LISTED, c.toRemove)) : [];
      codes.push({ code: c.code, label: c.label, used: c.used, newTotal: c.new, toRemove: c.toRemove, holders });
      const byAge = [...holders].sort((a, b) => (a.lastActive ?? '').localeCompare(b.lastActive ?? ''));
      plan.push(...byAge.slice(0, c.toRemove).map((h) => ({ kind: h.kind, id: h.id, code: c.code })));
    }
    return { codes, plan };
  }

  private async applyPlan(tx: Tx, plan: PlanStep[], by: string): Promise<void> {
    for (const step of plan) {
      const scope: CodeScope = step.code in this.quotas().perUser ? 'user' : 'server';
      const source = this.holderSources.find((s) => s.codes(step.code, scope));
      if (!source) throw refuse('LIC_PLAN_INVALID', { problem: `nothing holds code ${step.code}` });
      await source.release(tx, step, step.code, by);
    }
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
      try {
        this.verifier.verify(row.text, this.clock.now(), 'stored');
      } catch (e) {
        if (!isRefusal(e)) throw e;
        // Clock-dependent refusals are judged by mode(); the rest make the stored file unusable.
        if (e.code !== 'LIC_ISSUED_IN_FUTURE') invalid = { code: e.code, ...e.text };
      }
      this.current = { rowId: row.id, payload: readPayload(JSON.parse(row.payload)), activatedAt: row.activated_at, invalid };
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
    const none = (code: string, en: string, de: string): ModeState => ({ mode: 'entry', reason: { code, en, de }, expiresAt: null, graceEndsAt: null, graceDaysLeft: null });
    const f = this.foreign;
    if (f)
      return none('MODE_FOREIGN_DATA', `This data comes from another appliance (system ${f.dataSystemId}); request a rehost license for ${f.systemId}.`, `Diese Daten stammen von einer anderen Anlage (System ${f.dataSystemId}); fordern Sie eine Rehost-Lizenz für ${f.systemId} an.`);
    if (!this.current) return none('MODE_NO_LICENSE', 'No license is installed.', 'Es ist keine Lizenz installiert.');
    const p = this.current.payload;
    if (this.current.invalid)
      return none('MODE_LICENSE_INVALID', `The installed license ${p.licenseId} is not valid: ${this.current.invalid.en}`, `Die installierte Lizenz ${p.licenseId} ist ungültig: ${this.current.invalid.de}`);
    if (new Date(p.validFrom) > now)
      return none('MODE_NOT_YET_VALID', `License ${p.licenseId} is valid only from ${p.validFrom}.`, `Die Lizenz ${p.licenseId} gilt erst ab ${p.validFrom}.`);
    if (!p.expiresAt) return { mode: 'licensed', reason: { code: 'MODE_LICENSED', en: `License ${p.licenseId} is valid without expiry.`, de: `Die Lizenz ${p.licenseId} ist unbefristet gültig.` }, expiresAt: null, graceEndsAt: null, graceDaysLeft: null };
    const expires = new Date(p.expiresAt);
    const graceEnds = new Date(expires.getTime() + this.opts.graceDays * DAY_MS);
    const base = { expiresAt: p.expiresAt, graceEndsAt: graceEnds.toISOString() };
    if (now < expires)
      return { mode: 'licensed', reason: { code: 'MODE_LICENSED', en: `License ${p.licenseId} is valid until ${p.expiresAt}.`, de: `Die Lizenz ${p.licenseId} ist gültig bis ${p.expiresAt}.` }, ...base, graceDaysLeft: null };
    if (now < graceEnds) {
      const left = Math.ceil((graceEnds.getTime() - now.getTime()) / DAY_MS);
      return { mode: 'grace', reason: { code: 'MODE_GRACE', en: `License ${p.licenseId} expired on ${p.expiresAt}; everything keeps working for ${left} more day(s).`, de: `Die Lizenz ${p.licenseId} ist am ${p.expiresAt} abgelaufen; alles funktioniert noch ${left} Tag(e).` }, ...base, graceDaysLeft: left };
    }
    return { mode: 'entry', reason: { code: 'MODE_LICENSE_EXPIRED', en: `License ${p.licenseId} expired on ${p.expiresAt} and its grace period ended on ${base.graceEndsAt}.`, de: `Die Lizenz ${p.licenseId} ist am ${p.expiresAt} abgelaufen, die Kulanzfrist endete am ${base.graceEndsAt}.` }, ...base, graceDaysLeft: 0 };
  }

  /** The quantities in force now: the license's in Licensed and Grace, the Entry allowance otherwise. */
  quotas(now = this.clock.now()): { quantities: Record<string, number>; perUser: Record<string, number> } {
    const p = this.current?.payload;
    if (!p || this.foreign || this.mode(now).mode === 'entry') {
      const perUser = codeDict(Object.keys(p?.perUser ?? {}).map((c): [string, number] => [c, 0]));
      return { quantities: codeDict(ENTRY_QUANTITIES), perUser };
    }
    return { quantities: codeDict(p.quantities), perUser: codeDict(p.perUser) };
  }

  /** Emit mode.changed when time (or an activation) moved the appliance into another mode. */
  checkMode(): ModeState {
    const m = this.mode();
    if (this.lastMode !== null && this.lastMode !== m.mode) this.bus.emit('mode.changed', { from: this.lastMode, to: m.mode, reason: m.reason.en });
    this.lastMode = m.mode;
    return m;
  }

  async usage(q: Pick<Tx, 'get' | 'all'> = this.store): Promise<Record<string, number>> {
    const used = codeDict<number>();
    for (const p of this.usageProviders) Object.assign(used, await p(q));
    return used;
  }

  /** Every code the license (or Entry) knows, with used and total. */
  async codeLines(): Promise<CodeLine[]> {
    const used = await this.usage();
    const { quantities, perUser } = this.quotas();
    const p = this.current?.payload ?? null;
    const line = (code: string, scope: CodeScope, total: number): CodeLine => ({ code, scope, label: labelOf(code, p), used: used[code] ?? 0, total });
    const server = serverCodes(used, new Set(Object.keys(perUser)), quantities);
    return [...[...server].map((c) => line(c, 'server', quantities[c] ?? 0)), ...Object.keys(perUser).map((c) => line(c, 'user', perUser[c] ?? 0))];
  }

  /** Code by code: what the license in force grants, what `next` grants, what is used, what must go. */
  diff(next: LicensePayload | null, used: Record<string, number>, now = this.clock.now()): CodeChange[] {
    const cur = this.quotas(now);
    const nextQ = next ? next.quantities : codeDict(ENTRY_QUANTITIES);
    const nextU = next ? next.perUser : codeDict<number>();
    const out: CodeChange[] = [];
    const add = (code: string, scope: CodeScope, oldN: number, newN: number) => {
      const u = used[code] ?? 0;
      out.push({ code, scope, label: labelOf(code, next ?? this.current?.payload), old: oldN, new: newN, used: u, toRemove: Math.max(0, u - newN) });
    };
    for (const c of serverCodes(used, new Set([...Object.keys(cur.perUser), ...Object.keys(nextU)]), cur.quantities, nextQ)) add(c, 'server', cur.quantities[c] ?? 0, nextQ[c] ?? 0);
    for (const c of new Set([...Object.keys(cur.perUser), ...Object.keys(nextU)])) add(c, 'user', cur.perUser[c] ?? 0, nextU[c] ?? 0);
    return out;
  }

  /** Judge a verified file's dates against now: usable now, or a refusal. */
  private checkDates(p: LicensePayload, now: Date, allowFuture = false): void {
    if (!allowFuture && new Date(p.validFrom) > now) throw refuse('LIC_NOT_YET_VALID', { validFrom: p.validFrom });
    if (p.expiresAt) {
      const graceEnd = new Date(new Date(p.expiresAt).getTime() + this.opts.graceDays * DAY_MS);
      if (graceEnd <= now) throw refuse('LIC_EXPIRED', { expiresAt: p.expiresAt, graceEndedAt: graceEnd.toISOString() });
    }
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
      this.checkDates(verified.payload, now, true);
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
    const over = await this.overuse(this.store, changes);
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
      const payload = readPayload(JSON.parse(row.payload));
      if (new Date(payload.validFrom) > now) return this.schedule(tx, row, payload, by);
      this.checkDates(payload, now);
      // The plan (if any) releases assignments in this same transaction; then
      // nothing may be left over-used, or the whole activation is refused.
      await this.applyPlan(tx, plan, by);
      const changes = this.diff(payload, await this.usage(tx), now);
      const over = await this.overuse(tx, changes);
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
    const out: Warning[] = [];
    const trust = this.opts.developmentTrust;
    if (trust) {
      const why = trust === 'checkout' ? { en: 'pbxd runs from a source checkout', de: 'pbxd läuft aus einem Quellcode-Checkout' } : { en: 'license.trustDevelopmentRoot is true in the configuration', de: 'license.trustDevelopmentRoot ist in der Konfiguration true' };
      out.push({
        code: 'DEVELOPMENT_ROOT_TRUSTED',
        en: `This appliance trusts the public development license root (${why.en}): anyone can issue licenses it accepts. Never on a production appliance.`,
        de: `Diese Anlage vertraut der öffentlichen Entwicklungs-Lizenzwurzel (${why.de}): Jeder kann Lizenzen ausstellen, die sie annimmt. Niemals auf einer Produktivanlage.`,
      });
    }
    const f = this.foreign;
    if (f)
      out.push({
        code: 'FOREIGN_DATA',
        en: `This data comes from another appliance (system ${f.dataSystemId}); request a rehost license for ${f.systemId}. Nothing was deleted.`,
        de: `Diese Daten stammen von einer anderen Anlage (System ${f.dataSystemId}); fordern Sie eine Rehost-Lizenz für ${f.systemId} an. Es wurde nichts gelöscht.`,
      });
    return out;
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
