import type { Tx } from '../store/store.js';
import { refuse } from '../kernel/refusal.js';
import { codeDict } from './format.js';
import type { CodeChange, CodeScope } from './modes.js';

/**
 * What consumes licenses: the features that count codes in use and hold them,
 * and the removal plans drawn from their holders. Licensing knows the
 * features only through what they register here.
 */

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

/** How many holders of an over-used code are listed (and the plan draws from). */
const HOLDERS_LISTED = 200;

export class LicenseConsumers {
  private readonly usageProviders: UsageProvider[] = [];
  private readonly holderSources: HolderSource[] = [];

  addUsageProvider(p: UsageProvider): void {
    this.usageProviders.push(p);
  }

  addHolderSource(s: HolderSource): void {
    this.holderSources.push(s);
  }

  async usage(q: Pick<Tx, 'get' | 'all'>): Promise<Record<string, number>> {
    const used = codeDict<number>();
    for (const p of this.usageProviders) Object.assign(used, await p(q));
    return used;
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

  /** Release each step's holding; `perUser` tells which codes are per-user ones in force. */
  async applyPlan(tx: Tx, plan: PlanStep[], perUser: Record<string, number>, by: string): Promise<void> {
    for (const step of plan) {
      const scope: CodeScope = step.code in perUser ? 'user' : 'server';
      const source = this.holderSources.find((s) => s.codes(step.code, scope));
      if (!source) throw refuse('LIC_PLAN_INVALID', { problem: `nothing holds code ${step.code}` });
      await source.release(tx, step, step.code, by);
    }
  }
}
