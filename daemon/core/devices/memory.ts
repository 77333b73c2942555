import { LICENSE_STATES, licenseStateOf, type DeviceFamilies, type DeviceRecord, type LicenseState } from './model.js';

/**
 * Every device held in memory, so the provisioning hot path (`get`, `claim`)
 * never queries SQLite. The copy is changed only after a write commits; the
 * counts per license code and per state are kept in step so metrics and the
 * quick "none free" answer never count.
 */
export class DeviceMemory {
  readonly index = new Map<string, DeviceRecord>();
  /** Licensed devices per code, mirrored from the table (for the quick "none free" answer). */
  readonly held = new Map<string, number>();
  /** Devices per license state, kept in step with the memory copy (metrics read it, never count). */
  readonly byState: Record<LicenseState, number> = { licensed: 0, waiting: 0, not_required: 0, unassigned: 0, blocked: 0 };

  constructor(private readonly families: DeviceFamilies) {}

  recount(): void {
    this.held.clear();
    for (const s of LICENSE_STATES) this.byState[s] = 0;
    for (const d of this.index.values()) {
      if (d.licenseCode) this.held.set(d.licenseCode, (this.held.get(d.licenseCode) ?? 0) + 1);
      this.byState[licenseStateOf(d, this.families)]++;
    }
  }

  /** Put a committed record into memory, keeping the per-code license counts in step. */
  remember(mac: string, next: DeviceRecord | undefined): void {
    const prev = this.index.get(mac);
    if (prev?.licenseCode) this.held.set(prev.licenseCode, (this.held.get(prev.licenseCode) ?? 1) - 1);
    if (next?.licenseCode) this.held.set(next.licenseCode, (this.held.get(next.licenseCode) ?? 0) + 1);
    if (prev) this.byState[licenseStateOf(prev, this.families)]--;
    if (next) this.byState[licenseStateOf(next, this.families)]++;
    if (next) this.index.set(mac, next);
    else this.index.delete(mac);
  }
}
