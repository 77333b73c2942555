import type { EventBus } from '../../kernel/events.js';
import { messageOf } from '../../kernel/messages.js';
import { pageOf, type PageAsk } from '../paging.js';
import { normalizeMac, refuse, type OutcomeNote, type ProvisioningEvent } from './model.js';

/**
 * The latest provisioning outcomes (served, refused, unknown ...), kept in a
 * ring buffer of bounded size for the admin UI and pbxctl, and told to the
 * event stream as they happen. Memory only: a restart starts it empty.
 */
export class OutcomeHistory {
  private readonly history: ProvisioningEvent[] = [];
  private historyStart = 0;

  constructor(
    private readonly bus: EventBus,
    /** How many outcomes are kept (the Devices options). */
    private readonly options: { readonly historySize: number },
  ) {}

  /** Record a provisioning outcome (bounded history) and tell the event stream. */
  note(e: OutcomeNote): void {
    const said = messageOf(e.code, e.values);
    const ev: ProvisioningEvent = { ...e, values: said.values, detail: said.text.en, text: said.text, at: new Date().toISOString() };
    if (this.history.length < this.options.historySize) this.history.push(ev);
    else {
      this.history[this.historyStart] = ev;
      this.historyStart = (this.historyStart + 1) % this.options.historySize;
    }
    this.bus.emit('provisioning.event', ev);
  }

  /** One page of the kept provisioning outcomes, newest first (order asc: oldest first); filters outcome and mac. */
  events(f: { outcome?: string; mac?: string } & PageAsk = {}): { total: number; events: ProvisioningEvent[]; limit: number; offset: number } {
    const page = pageOf(f, ['at'] as const, { sort: 'at', order: 'desc' });
    const mac = f.mac ? normalizeMac(f.mac) : undefined;
    if (f.mac && !mac) throw refuse('DEV_MAC_INVALID', { mac: f.mac.slice(0, 40) });
    const ordered = [...this.history.slice(this.historyStart), ...this.history.slice(0, this.historyStart)];
    if (page.order === 'desc') ordered.reverse();
    const matching = ordered.filter((e) => (!f.outcome || e.outcome === f.outcome) && (!mac || e.mac === mac));
    return { total: matching.length, events: matching.slice(page.offset, page.offset + page.limit), limit: page.limit, offset: page.offset };
  }
}
