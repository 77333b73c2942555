import type { Store } from '../../store/store.js';
import type { DeviceMemory } from './memory.js';
import { seenAt } from './model.js';

/** What was noted of a device's last request and not yet written. */
export interface Seen {
  at: number;
  ip: string;
  model: string;
  firmware: string;
}

/**
 * When and from where each device was last seen. Most provisioning requests
 * note it; the table gets it in batches, not one write per request.
 */
export class LastSeen {
  /** last_seen/last_ip not yet written: flushed in batches, not one write per request. */
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly store: Store,
    private readonly memory: DeviceMemory,
  ) {}

  /** What is noted of a device and not yet written (views show it over the table's). */
  pending(mac: string): Seen | undefined {
    return this.seen.get(mac);
  }

  /** Note that a device was seen, and with which model and firmware (written in batches by `flushSeen`). */
  touch(mac: string, ip: string, model = '', firmware = ''): void {
    // Called for most provisioning requests: a number now, the ISO text only when written or shown.
    const at = Date.now();
    const s = this.seen.get(mac);
    if (s && s.ip === ip && s.model === model && s.firmware === firmware) s.at = at;
    else this.seen.set(mac, { at, ip, model: model.slice(0, 64), firmware: firmware.slice(0, 64) });
  }

  /** Write pending last_seen/last_ip in one transaction. Losing a few seconds of these in a crash is acceptable. */
  async flushSeen(): Promise<number> {
    if (this.seen.size === 0) return 0;
    const batch = [...this.seen];
    this.seen.clear();
    // One statement for the whole batch (a boot storm touches thousands of rows).
    const json = JSON.stringify(batch.map(([m, s]) => [m, seenAt(s), s.ip, s.model, s.firmware]));
    await this.store.write((tx) =>
      tx.run(`UPDATE devices SET last_seen = s.at, last_ip = s.ip,
                     model = COALESCE(NULLIF(s.model, ''), devices.model), firmware = COALESCE(NULLIF(s.firmware, ''), devices.firmware)
                FROM (SELECT value->>0 AS mac, value->>1 AS at, value->>2 AS ip, value->>3 AS model, value->>4 AS firmware FROM json_each(?)) AS s
               WHERE devices.mac = s.mac`, [json]),
    );
    for (const [mac, s] of batch) {
      const d = this.memory.index.get(mac);
      // The rest of what was seen is in the table now; only the model decides a configuration.
      if (d && s.model) d.model = s.model;
    }
    return batch.length;
  }
}
