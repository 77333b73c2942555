import type { EventBus } from '../kernel/events.js';
import type { Licensing, OveruseReport, PlanStep } from './licensing.js';
import { isRefusal } from '../kernel/refusal.js';
import { ActivationClient, REQUEST_KEY, refuse } from './activation-client.js';
import { parseLicenseFile, type LicensePayload } from './format.js';

export interface CheckResult {
  result: 'nothing new' | 'installed' | 'needs removals';
  licenseId?: string;
  /** Set when the new file is valid from a later day and was scheduled. */
  activatesAt?: string;
  stageId?: number;
  overused?: OveruseReport[];
  plan?: PlanStep[];
}

/** The payload of a file without verifying it: only to recognise a file we already have. */
function peek(text: string): Pick<LicensePayload, 'licenseId' | 'issuedAt'> | null {
  try {
    return JSON.parse(parseLicenseFile(text).payloadBytes.toString('utf8'));
  } catch {
    return null;
  }
}

/**
 * Renewal through the vendor's activation server: the online check for a newer
 * license, and a request key exchanged for a provisional one. What arrives is
 * installed exactly like an upload (verify → stage → over-use rules → activate).
 */
export class Renewal {
  constructor(
    private readonly licensing: Licensing,
    readonly client: ActivationClient,
    private readonly systemId: string,
    private readonly bus: EventBus,
  ) {}

  async check(by: string): Promise<CheckResult> {
    const installed = this.licensing.installed();
    const scheduled = this.licensing.scheduled();
    // Ask for anything newer than what we have, including a file already waiting for its day.
    const issuedAt = [installed?.issuedAt, scheduled?.issuedAt].filter((x): x is string => !!x).sort().at(-1) ?? null;
    const answer = await this.client.check({ systemId: this.systemId, licenseId: installed?.licenseId ?? null, issuedAt });
    // The vendor's revocation list comes with every answer; a newer one is kept (and judges the license in force).
    if (answer.revocations) await this.licensing.applyRevocations(answer.revocations, by);
    if (answer.status === 'none') return this.done({ result: 'nothing new' }, by);
    const seen = peek(answer.license);
    const known = [installed, scheduled].some((k) => k && seen && k.licenseId === seen.licenseId && k.issuedAt === seen.issuedAt);
    if (known) return this.done({ result: 'nothing new' }, by);

    const staged = await this.licensing.stage(answer.license, by);
    const licenseId = staged.payload.licenseId;
    if (staged.overused.length) return this.done({ result: 'needs removals', licenseId, stageId: staged.stageId, overused: staged.overused, plan: staged.plan }, by);
    try {
      const r = await this.licensing.activate(staged.stageId, by);
      return this.done({ result: 'installed', licenseId, ...(r.activatesAt ? { activatesAt: r.activatesAt } : {}) }, by);
    } catch (e) {
      // Something took a seat between staging and activating: the file stays staged for the admin.
      if (isRefusal(e) && e.code === 'LIC_OVERUSED') {
        const d = e.details as { codes: OveruseReport[]; plan: PlanStep[] };
        return this.done({ result: 'needs removals', licenseId, stageId: staged.stageId, overused: d.codes, plan: d.plan }, by);
      }
      throw e;
    }
  }

  private done(r: CheckResult, by: string): CheckResult {
    this.bus.emit('license.checked', { result: r.result, licenseId: r.licenseId ?? null, activatesAt: r.activatesAt ?? null, stageId: r.stageId ?? null, by });
    return r;
  }

  /** Exchange the 10-digit request key from the license certificate for a provisional license and install it. */
  async requestProvisional(requestKey: string, by: string) {
    const key = requestKey.replace(/[\s-]/g, '');
    if (!REQUEST_KEY.test(key)) throw refuse('ACT_REQUEST_KEY_INVALID');
    const text = await this.client.request({ systemId: this.systemId, requestKey: key });
    return this.licensing.install(text, by);
  }
}
