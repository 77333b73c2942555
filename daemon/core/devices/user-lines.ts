import type { Store, Tx } from '../../store/store.js';
import type { EventBus, EventMap } from '../../kernel/events.js';
import type { Logger } from '../../kernel/log.js';
import type { Directory } from '../users/directory.js';

/** Users changed but not yet refreshed that are kept by name; beyond, the next refresh reads every line. */
const USERS_CHANGED_KEPT = 10_000;
/** How long after a users.changed its devices' lines are refreshed. */
const REFRESH_AFTER_MS = 200;

/** What following the users needs of the device table's owner. */
export interface DeviceLineWrites {
  /** Inside a transaction: drop the device's user, line secret and support license. */
  releaseIn(tx: Tx, mac: string, by: string, reason: string): Promise<boolean>;
  /** Re-read rows inside the transaction; publish them to memory (and listeners) once it commits. */
  publish(tx: Tx, macs: string[], action: string): Promise<void>;
}

/**
 * A device's line shows its user (display name, SIP user): when users change
 * elsewhere, the lines of their devices follow, shortly after and in one
 * write; a deleted user's devices are released. This is the core's reaction
 * to users.changed, so it runs with or without provisioning.
 */
export class UserLines {
  constructor(
    private readonly store: Store,
    bus: EventBus,
    /** The owner of `users`: what a line shows of its user, and which lines no longer match. */
    private readonly directory: Directory,
    private readonly log: Logger,
    private readonly table: DeviceLineWrites,
  ) {
    bus.on('users.changed', (e) => this.noteUsersChanged(e.data));
  }

  /**
   * Users named by users.changed since the last refresh; `null`: too many to
   * name, refresh every line. It starts `null`: the pass at start repairs what
   * a crash or an older build left behind (phones of users that are gone).
   */
  private usersChanged: Set<string> | null = null;

  private noteUsersChanged(data: EventMap['users.changed']): void {
    const names = data.userNames;
    // An event names at most a few hundred users (a large import gives the count); beyond that, or when the
    // set grows large without a refresh, every line is refreshed once.
    if (!this.usersChanged || names.length < data.count || this.usersChanged.size + names.length > USERS_CHANGED_KEPT) this.usersChanged = null;
    else for (const n of names) this.usersChanged.add(n.toLowerCase());
    // The lines follow their users shortly after: a burst of changes (an import) costs one refresh.
    this.refreshTimer ??= setTimeout(() => {
      this.refreshTimer = null;
      this.refreshUsers().catch((err) => this.log.error('refreshing device lines failed', { error: String(err) }));
    }, REFRESH_AFTER_MS);
  }

  private refreshTimer: NodeJS.Timeout | null = null;

  /** No refresh after the store closes. */
  stop(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  /**
   * Users changed elsewhere (name, extension, deleted): refresh the display
   * name and SIP user of their devices; a deleted user's devices are released.
   * Only the devices of the users changed since the last call are read, so a
   * change costs the same with 100 devices or 100,000.
   */
  async refreshUsers(): Promise<void> {
    const names = this.usersChanged;
    this.usersChanged = new Set();
    if (names?.size === 0) return;
    try {
      await this.store.write(async (tx) => {
        const { orphans, lines: rows } = await this.directory.deviceLineDrift(tx, names ? [...names] : null);
        for (const mac of orphans) await this.table.releaseIn(tx, mac, 'system', 'user deleted');
        const changed: string[] = [];
        for (const r of rows) {
          await tx.run('UPDATE devices SET display_name = ?, sip_user = ? WHERE mac = ?', [r.display, r.sip_user, r.mac]);
          changed.push(r.mac);
        }
        if (changed.length) await this.table.publish(tx, changed, 'user_changed');
      });
    } catch (e) {
      // Not refreshed: the next call tries these users again.
      if (!names || !this.usersChanged) this.usersChanged = null;
      else for (const n of names) this.usersChanged.add(n);
      throw e;
    }
  }
}
