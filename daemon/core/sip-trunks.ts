import type { Store, Tx } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import type { EventBus } from '../kernel/events.js';
import type { AuditLog } from './audit.js';
import type { Holder, Licensing } from '../licensing/licensing.js';
import { defineRefusals, entry, fixed, refuse as refuseCore } from '../kernel/refusal.js';
import { parseName } from './auto-attendants.js';

/** What the API shows of a trunk: never the password, only that one is set. */
export interface SipTrunkView {
  name: string;
  registrar: string;
  username: string;
  passwordSet: boolean;
  channels: number;
  createdAt: string;
  updatedAt: string;
}

interface SipTrunkInput {
  name: string;
  registrar: string;
  username: string;
  password: string;
  channels: number;
}

const MAX_CHANNELS_PER_TRUNK = 10_000;

export const refuse = defineRefusals({
  TRUNK_CHANNELS_EXCEEDED: entry<{ trunk: string; requested: number; configuredElsewhere: number; total: number; free: number }>(409,
    (d) => ({
      en: `Trunk "${d.trunk}" needs ${d.requested} channels, but ${d.configuredElsewhere} of ${d.total} SIP trunk channels are configured on other trunks (${d.free} free).`,
      de: `Der Trunk "${d.trunk}" benötigt ${d.requested} Kanäle, aber ${d.configuredElsewhere} von ${d.total} SIP-Trunk-Kanälen sind auf anderen Trunks konfiguriert (${d.free} frei).`,
    }),
    fixed({ en: 'Give this trunk fewer channels, reduce another trunk, or license more SIP trunk channels.', de: 'Geben Sie diesem Trunk weniger Kanäle, verringern Sie einen anderen Trunk oder lizenzieren Sie weitere SIP-Trunk-Kanäle.' })),
});

interface TrunkRow {
  id: number;
  name: string;
  registrar: string;
  username: string;
  password: string;
  channels: number;
  created_at: string;
  updated_at: string;
}

const REGISTRAR = /^(sips?:)?[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/;
const badField = (field: string, problem: string) => refuseCore('REQ_INVALID', { field, problem });
const notFound = (name: string) => refuseCore('REQ_NOT_FOUND', { what: `SIP trunk "${name}"` });

function str(raw: Record<string, unknown>, key: string, max: number, re?: RegExp, hint = ''): string {
  const v = raw[key];
  if (typeof v !== 'string' || v === '' || v.length > max || (re && !re.test(v))) throw badField(key, hint || `1–${max} characters`);
  return v;
}

/** A whole trunk (create) or the changed fields over `base` (edit). */
export function parseTrunk(raw: Record<string, unknown>, base?: SipTrunkInput): SipTrunkInput {
  const has = (k: string) => raw[k] !== undefined;
  for (const k of ['name', 'registrar', 'username', 'password', 'channels']) if (!base && !has(k)) throw badField(k, 'is required');
  if (has('channels') && (!Number.isInteger(raw.channels) || (raw.channels as number) < 0 || (raw.channels as number) > MAX_CHANNELS_PER_TRUNK))
    throw badField('channels', `a whole number 0..${MAX_CHANNELS_PER_TRUNK}`);
  return {
    name: has('name') ? parseName(raw.name) : base!.name,
    registrar: has('registrar') ? str(raw, 'registrar', 270, REGISTRAR, 'a host name or address, optionally sip:/sips: and :port') : base!.registrar,
    username: has('username') ? str(raw, 'username', 128) : base!.username,
    password: has('password') ? str(raw, 'password', 256) : base!.password,
    channels: has('channels') ? (raw.channels as number) : base!.channels,
  };
}

const view = (r: TrunkRow): SipTrunkView => ({
  name: r.name,
  registrar: r.registrar,
  username: r.username,
  passwordSet: r.password !== '',
  channels: r.channels,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** A trunk channel's holder id: "<trunk name>#<channel number>" (names cannot contain '#'). */
const channelId = (trunk: string, n: number) => `${trunk}#${n}`;

/**
 * SIP trunks to carriers. The channels of all trunks together may not exceed
 * the license's `trunkchannels`. The password is kept because the PBX must
 * present it to the carrier; it never leaves this module except to the PBX.
 */
export class SipTrunks {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly audit: AuditLog,
    private readonly licensing: Licensing,
  ) {
    licensing.addUsageProvider(async (q) => ({ trunkchannels: (await q.get<{ n: number }>('SELECT COALESCE(SUM(channels), 0) AS n FROM sip_trunks'))!.n }));
    licensing.addHolderSource({
      codes: (code) => code === 'trunkchannels',
      // The code counts channels, so each channel is one holder; the plan takes
      // the highest-numbered channels first, evening out the trunks.
      holders: async (q, _code, limit) => {
        const rows = await q.all<{ name: string; channels: number }>('SELECT name, channels FROM sip_trunks WHERE channels > 0');
        const out: Array<Holder & { n: number }> = [];
        for (const r of rows) for (let n = r.channels; n >= 1 && n > r.channels - limit; n--) out.push({ kind: 'trunk', id: channelId(r.name, n), name: `${r.name}: channel ${n} of ${r.channels}`, lastActive: null, n });
        return out
          .sort((a, b) => b.n - a.n || a.id.localeCompare(b.id))
          .slice(0, limit)
          .map(({ n: _n, ...h }) => h);
      },
      // Releasing a channel lowers its trunk by one channel; a trunk lowered to
      // 0 stays configured (nothing is deleted) but carries no calls.
      release: async (tx, holder, _code, by) => {
        const cut = holder.id.lastIndexOf('#');
        const name = cut > 0 ? holder.id.slice(0, cut) : '';
        const row = holder.kind === 'trunk' && name ? await tx.get<TrunkRow>('SELECT * FROM sip_trunks WHERE name = ?', [name]) : undefined;
        if (!row || row.channels === 0) throw refuseCore('LIC_PLAN_INVALID', { problem: `trunk channel "${holder.id}" is not configured` });
        await tx.run('UPDATE sip_trunks SET channels = channels - 1, updated_at = ? WHERE id = ?', [this.clock.now().toISOString(), row.id]);
        await this.audit.append(tx, by, 'siptrunk.update', row.name, { channels: `${row.channels}→${row.channels - 1}`, reason: 'license plan' });
        tx.afterCommit(() => this.bus.emit('sipTrunks.changed', { action: 'updated', name: row.name, by }));
      },
    });
  }

  private total(): number {
    return this.licensing.quotas().quantities.trunkchannels ?? 0;
  }

  async list(): Promise<{ channels: { used: number; total: number }; trunks: SipTrunkView[] }> {
    const rows = await this.store.all<TrunkRow>('SELECT * FROM sip_trunks ORDER BY name');
    return { channels: { used: rows.reduce((s, r) => s + r.channels, 0), total: this.total() }, trunks: rows.map(view) };
  }

  async get(name: string): Promise<SipTrunkView> {
    const row = await this.store.get<TrunkRow>('SELECT * FROM sip_trunks WHERE name = ?', [name]);
    if (!row) throw notFound(name);
    return view(row);
  }

  /**
   * The channel sum is checked inside the write that changes it. Lowering
   * channels is always allowed, even while over the license (after a fall to Entry).
   */
  private async checkChannels(tx: Tx, trunk: string, requested: number, previous: number, exceptId: number): Promise<void> {
    if (requested <= previous) return;
    const total = this.total();
    const elsewhere = (await tx.get<{ n: number }>('SELECT COALESCE(SUM(channels), 0) AS n FROM sip_trunks WHERE id <> ?', [exceptId]))!.n;
    if (elsewhere + requested > total) throw refuse('TRUNK_CHANNELS_EXCEEDED', { trunk, requested, configuredElsewhere: elsewhere, total, free: Math.max(0, total - elsewhere) });
  }

  async create(input: SipTrunkInput, by: string): Promise<SipTrunkView> {
    const now = this.clock.now().toISOString();
    await this.store.write(async (tx) => {
      if (await tx.get('SELECT 1 FROM sip_trunks WHERE name = ?', [input.name])) throw refuseCore('REQ_CONFLICT', { what: `SIP trunk "${input.name}"` });
      await this.checkChannels(tx, input.name, input.channels, 0, 0);
      await tx.run('INSERT INTO sip_trunks (name, registrar, username, password, channels, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        input.name, input.registrar, input.username, input.password, input.channels, now, now,
      ]);
      await this.audit.append(tx, by, 'siptrunk.create', input.name, { registrar: input.registrar, username: input.username, channels: input.channels });
      tx.afterCommit(() => this.bus.emit('sipTrunks.changed', { action: 'created', name: input.name, by }));
    });
    return this.get(input.name);
  }

  async update(name: string, patch: Record<string, unknown>, by: string): Promise<SipTrunkView> {
    const now = this.clock.now().toISOString();
    const newName = await this.store.write(async (tx) => {
      const row = await tx.get<TrunkRow>('SELECT * FROM sip_trunks WHERE name = ?', [name]);
      if (!row) throw notFound(name);
      const next = parseTrunk(patch, row);
      if (next.name.toLowerCase() !== row.name.toLowerCase() && (await tx.get('SELECT 1 FROM sip_trunks WHERE name = ?', [next.name])))
        throw refuseCore('REQ_CONFLICT', { what: `SIP trunk "${next.name}"` });
      await this.checkChannels(tx, next.name, next.channels, row.channels, row.id);
      await tx.run('UPDATE sip_trunks SET name = ?, registrar = ?, username = ?, password = ?, channels = ?, updated_at = ? WHERE id = ?', [
        next.name, next.registrar, next.username, next.password, next.channels, now, row.id,
      ]);
      // The audit says that the password changed, never what it is.
      const changed = (['name', 'registrar', 'username', 'password', 'channels'] as const).filter((k) => next[k] !== row[k]);
      await this.audit.append(tx, by, 'siptrunk.update', row.name, {
        changed,
        ...(next.channels !== row.channels ? { channels: `${row.channels}→${next.channels}` } : {}),
        ...(next.name !== row.name ? { renamedTo: next.name } : {}),
      });
      tx.afterCommit(() => this.bus.emit('sipTrunks.changed', { action: 'updated', name: next.name, by }));
      return next.name;
    });
    return this.get(newName);
  }

  async remove(name: string, by: string): Promise<void> {
    await this.store.write(async (tx) => {
      const row = await tx.get<TrunkRow>('SELECT * FROM sip_trunks WHERE name = ?', [name]);
      if (!row) throw notFound(name);
      await tx.run('DELETE FROM sip_trunks WHERE id = ?', [row.id]);
      await this.audit.append(tx, by, 'siptrunk.delete', row.name, { channels: row.channels });
      tx.afterCommit(() => this.bus.emit('sipTrunks.changed', { action: 'deleted', name: row.name, by }));
    });
  }
}
