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
  [other: `${string}.${string}`]: Record<string, unknown>;
}

export type EventName = keyof EventMap & string;

export interface BusEvent<K extends EventName = EventName> {
  name: K;
  at: string;
  data: EventMap[K];
}

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
  onAny(listener: (event: BusEvent) => void): () => void {
    this.emitter.on('*', listener);
    return () => this.emitter.off('*', listener);
  }
}
