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
  'admin.login': { name: string; ok: boolean; from: string };
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
