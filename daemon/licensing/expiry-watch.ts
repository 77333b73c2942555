import type { Store } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import { DAY_MS } from '../kernel/clock.js';
import type { EventBus } from '../kernel/events.js';
import type { Logger } from '../kernel/log.js';
import type { Licensing } from './licensing.js';
import { isRefusal } from '../kernel/refusal.js';
import { defineMessages, type Message } from '../kernel/messages.js';
import { readMeta, writeMeta } from '../store/meta.js';

/** What a run of the expiry watch did (the job's result). Modes are the codes the API and the status show. */
const say = defineMessages({
  'expiry.activated': { en: 'activated scheduled license {licenseId}', de: 'geplante Lizenz "{licenseId}" aktiviert' },
  'expiry.notActivated': { en: 'scheduled license not activated: {refusal}', de: 'geplante Lizenz nicht aktiviert: {refusal}' },
  'expiry.mode': { en: 'mode {mode}', de: 'Modus "{mode}"' },
  'expiry.warned.expiry': { en: 'warned: expiry {days} day(s) left', de: 'gewarnt: Die Lizenz läuft in {days} Tag(en) ab' },
  'expiry.warned.provisional': { en: 'warned: provisional {days} day(s) left', de: 'gewarnt: Die vorläufige Lizenz läuft in {days} Tag(en) ab' },
  'expiry.warned.grace': { en: 'warned: grace {days} day(s) left', de: 'gewarnt: Die Kulanzfrist endet in {days} Tag(en)' },
});
/** Days before expiry at which admins are warned (and every day of grace). */
const WARNING_DAYS = [30, 7, 1] as const;

const META_KEY = 'license_warnings_sent';

interface Sent {
  licenseId: string;
  issuedAt: string;
  keys: string[];
}

/**
 * Watches the license in force against the trusted clock: moves the mode
 * (Licensed → Grace → Entry) on time, activates a scheduled file on its day,
 * and warns once per threshold. What was warned is kept in `meta`, so a
 * restart does not repeat it.
 */
export class ExpiryWatch {
  constructor(
    private readonly licensing: Licensing,
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly log: Logger,
  ) {}

  async run(): Promise<Message[]> {
    const parts: Message[] = [];
    try {
      const activated = await this.licensing.activateDue('scheduler');
      if (activated) parts.push(say('expiry.activated', { licenseId: activated.licenseId }));
    } catch (e) {
      if (!isRefusal(e)) throw e;
      // Over-used on the day: it stays scheduled; the admin removes assignments and it goes in at the next run.
      const s = this.licensing.scheduled();
      this.bus.emit('license.scheduled.blocked', { licenseId: s?.licenseId ?? null, refusal: e.toJSON() });
      this.log.warn('scheduled license cannot be activated', { licenseId: s?.licenseId, code: e.code, reason: e.text.en });
      parts.push(say('expiry.notActivated', { refusal: e.code }));
    }
    const m = this.licensing.checkMode();
    parts.push(say('expiry.mode', { mode: m.mode }));
    const w = await this.warn();
    if (w) parts.push(w);
    return parts;
  }

  private async warn(): Promise<Message | null> {
    const p = this.licensing.installed();
    const now = this.clock.now();
    const m = this.licensing.mode(now);
    if (!p || !p.expiresAt || m.mode === 'entry') return null;
    const kept = await readMeta(this.store, META_KEY);
    let sent: Sent = kept ? JSON.parse(kept) : { licenseId: '', issuedAt: '', keys: [] };
    if (sent.licenseId !== p.licenseId || sent.issuedAt !== p.issuedAt) sent = { licenseId: p.licenseId, issuedAt: p.issuedAt, keys: [] };

    let warning: { kind: 'expiry' | 'grace' | 'provisional'; daysLeft: number; key: string; covers: string[] } | null = null;
    if (m.mode === 'licensed') {
      const daysLeft = Math.ceil((Date.parse(p.expiresAt) - now.getTime()) / DAY_MS);
      const kind = p.kind === 'provisional' ? 'provisional' : 'expiry';
      const crossed = WARNING_DAYS.filter((t) => daysLeft <= t).map((t) => `${kind}:${t}`);
      // After a jump (or downtime) past several thresholds, only the most urgent one is sent.
      const key = crossed.at(-1);
      if (key && !sent.keys.includes(key)) warning = { kind, daysLeft, key, covers: crossed };
    } else {
      const key = `grace:${m.graceDaysLeft}`;
      if (!sent.keys.includes(key)) warning = { kind: 'grace', daysLeft: m.graceDaysLeft ?? 0, key, covers: [key] };
    }
    if (!warning) return null;
    sent.keys = [...new Set([...sent.keys, ...warning.covers])];
    await this.store.write((tx) => writeMeta(tx, META_KEY, JSON.stringify(sent)));
    const data = { kind: warning.kind, daysLeft: warning.daysLeft, licenseId: p.licenseId, expiresAt: p.expiresAt, graceEndsAt: m.graceEndsAt };
    this.bus.emit('license.warning', data);
    this.log.warn(
      warning.kind === 'grace' ? 'license expired: grace period running' : warning.kind === 'provisional' ? 'provisional license expires soon' : 'license expires soon',
      data,
    );
    return say(`expiry.warned.${warning.kind}`, { days: warning.daysLeft });
  }

  /** The next instant at which something changes (a threshold, expiry, a grace day, a scheduled activation). */
  nextBoundary(): Date | null {
    const now = this.clock.now().getTime();
    const at: number[] = [];
    const p = this.licensing.installed();
    const s = this.licensing.scheduled();
    if (s) at.push(Date.parse(s.activatesAt));
    if (p) at.push(Date.parse(p.validFrom));
    const m = this.licensing.mode();
    if (p?.expiresAt && m.graceEndsAt) {
      const exp = Date.parse(p.expiresAt);
      const graceEnd = Date.parse(m.graceEndsAt);
      at.push(exp, graceEnd, ...WARNING_DAYS.map((d) => exp - d * DAY_MS));
      for (let t = graceEnd - DAY_MS; t > exp; t -= DAY_MS) at.push(t);
    }
    const next = at.filter((t) => t > now).sort((a, b) => a - b)[0];
    return next === undefined ? null : new Date(next);
  }
}
