import { EventEmitter } from 'node:events';
import type { RefusalJSON } from './refusal.js';

/**
 * Everything the core tells the adapters. socket.io, metrics, the logger and
 * later the scheduler subscribe here; the core never knows who listens.
 */
export interface EventMap {
  'license.staged': { stageId: number; licenseId: string; by: string };
  'license.activated': { licenseId: string; by: string };
  'license.refused': { refusal: RefusalJSON; by: string };
  'mode.changed': { from: string; to: string; reason: string };
  'audit.appended': { id: number; action: string; actor: string };
  'admin.login': { name: string; ok: boolean; from: string; limited?: boolean };
  // license lifecycle (scheduler, renewal)
  'license.warning': { kind: 'expiry' | 'grace' | 'provisional'; daysLeft: number; licenseId: string; expiresAt: string; graceEndsAt: string | null };
  'license.scheduled': { licenseId: string; activatesAt: string; by: string };
  'license.scheduled.blocked': { licenseId: string | null; refusal: RefusalJSON };
  'license.checked': { result: 'nothing new' | 'installed' | 'needs removals'; licenseId: string | null; activatesAt: string | null; stageId: number | null; by: string };
  'clock.rollback': { systemTime: string; trustedTime: string; behindMinutes: number };
  'job.finished': { name: string; ok: boolean; result: string; ms: number };
  'device.staleReleased': { mac: string; days: number };
  /** A provisioning request that asked for a device's credentials and was not entitled to them. */
  'provisioning.alert': { kind: string; mac: string | null; vendor: string | null; ip: string; code: string; values: Record<string, string | number>; detail: string; text: { en: string; de: string }; at: string };
  /** One provisioning outcome as the devices' history keeps it (`detail` in English; the UI words `code` and `values`). */
  'provisioning.event': { mac: string | null; vendor: string | null; model: string | null; outcome: string; code: string; values: Record<string, string | number>; detail: string; text: { en: string; de: string }; ip: string; at: string };
  /** Counted by the core metrics when the pipeline runs without them registered. */
  'provisioning.request': { vendor: string; outcome: string; ms: number };
  'admin.logout': { name: string; session: string };
  /** The development clock was moved. */
  'clock.changed': { now: string };
  'users.changed': { action: string; userNames: string[]; count: number };
  'userLicenses.changed': { changes: Array<{ userName: string; code: string; assigned: boolean }>; by: string };
  'tenants.changed': { tenant: string; seats: number | null };
  'devices.changed': { macs: string[]; action: string };
  'sessions.changed': { action: 'opened' | 'closed'; id: string; userName: string; kind: string; reason?: string };
  'autoAttendants.changed': { action: 'created' | 'updated' | 'deleted'; name: string; by: string };
  'autoAttendant.switched': { name: string; state: 'open' | 'closed'; at: string };
  'sipTrunks.changed': { action: 'created' | 'updated' | 'deleted'; name: string; by: string };
}

/** Event names: the thing in camelCase (plural when the event is about the collection), a dot, what happened. */
export type EventName = keyof EventMap;

interface BusEvent<K extends EventName = EventName> {
  name: K;
  at: string;
  data: EventMap[K];
}

/** Any one event, narrowed by its name. */
export type AnyBusEvent = { [K in EventName]: BusEvent<K> }[EventName];

export class EventBus {
  private readonly emitter = new EventEmitter();
  constructor() {
    this.emitter.setMaxListeners(0);
  }

  emit<K extends EventName>(name: K, data: EventMap[K], at = new Date()): void {
    const event: BusEvent<K> = { name, at: at.toISOString(), data };
    this.emitter.emit(name, event);
    this.emitter.emit('*', event);
  }

  on<K extends EventName>(name: K, listener: (event: BusEvent<K>) => void): () => void {
    this.emitter.on(name, listener as (e: unknown) => void);
    return () => this.emitter.off(name, listener as (e: unknown) => void);
  }

  /** Every event, for fan-out adapters (socket.io, event history). */
  onAny(listener: (event: AnyBusEvent) => void): () => void {
    this.emitter.on('*', listener);
    return () => this.emitter.off('*', listener);
  }
}
