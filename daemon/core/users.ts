import type { Store, Tx } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import type { EventBus } from '../kernel/events.js';
import type { AuditLog } from './audit.js';
import type { Licensing } from '../licensing/licensing.js';
import { Directory } from './users/directory.js';
import { UserIntake } from './users/intake.js';
import { SeatPools } from './users/seat-pools.js';
import { UserLicenses } from './users/user-licenses.js';

export { refuse, SUPERVISOR, validateUser, type User, type UserInput, type LicenseChange } from './users/model.js';
export { USER_SORTS, type UserFilter } from './users/directory.js';

/**
 * The users room, composed: the directory (owner of `users`), the seat pools
 * (`tenants`, `seats_used`), the per-user licenses (`user_licenses`, their
 * counts and suspensions) and the intake (import, approval). Each module owns
 * its tables; the methods below are what the HTTP routes and the rest of the
 * daemon call. Knows nothing of HTTP.
 */
export class Users {
  readonly directory: Directory;
  readonly pools: SeatPools;
  readonly licenses: UserLicenses;
  readonly intake: UserIntake;

  constructor(store: Store, licensing: Licensing, audit: AuditLog, bus: EventBus, clock: Clock) {
    // The pools ask the directory how many users a tenant has, the directory asks the licenses what a user holds.
    this.pools = new SeatPools(store, licensing, audit, bus, clock, {
      count: (q, id) => this.directory.count(q, id),
      pendingByTenant: (q) => this.directory.pendingByTenant(q),
    });
    this.directory = new Directory(store, audit, bus, clock, this.pools, {
      inForce: (tx, id) => this.licenses.inForce(tx, id),
      dropAll: (tx, id) => this.licenses.dropAll(tx, id),
    });
    this.licenses = new UserLicenses(store, licensing, audit, bus, clock, this.directory);
    this.intake = new UserIntake(store, audit, clock, this.directory, this.pools);

    licensing.addUsageProvider(async (q) => ({ users: await this.pools.used(q), ...(await this.licenses.used(q)) }));
    licensing.addHolderSource({
      codes: (code) => code === 'users',
      holders: (q, _code, limit) => this.directory.seatHolders(q, limit),
      release: (tx, holder, _code, by) => this.directory.releaseSeat(tx, holder.id, by),
    });
    licensing.addHolderSource({
      codes: (code, scope) => code !== 'users' && scope === 'user',
      holders: (q, code, limit) => this.licenses.holders(q, code, limit),
      release: (tx, holder, code, by) => this.licenses.release(tx, holder.id, code, by),
    });
  }

  ensureSupervisor = () => this.directory.ensureSupervisor();
  onUserRemoved = (fn: (tx: Tx, userName: string, by: string) => Promise<void>) => this.directory.onUserRemoved(fn);
  register: Directory['register'] = (...a) => this.directory.register(...a);
  get: Directory['get'] = (...a) => this.directory.get(...a);
  update: Directory['update'] = (...a) => this.directory.update(...a);
  delete: Directory['delete'] = (...a) => this.directory.delete(...a);
  list: Directory['list'] = (...a) => this.directory.list(...a);
  import: UserIntake['import'] = (...a) => this.intake.import(...a);
  approve: UserIntake['approve'] = (...a) => this.intake.approve(...a);
  tenants: SeatPools['tenants'] = () => this.pools.tenants();
  setPool: SeatPools['setPool'] = (...a) => this.pools.setPool(...a);
  deleteTenant: SeatPools['deleteTenant'] = (...a) => this.pools.deleteTenant(...a);
  licenseCodes: UserLicenses['licenseCodes'] = () => this.licenses.licenseCodes();
  licenseTable: UserLicenses['licenseTable'] = (...a) => this.licenses.licenseTable(...a);
  applyLicenseChanges: UserLicenses['applyLicenseChanges'] = (...a) => this.licenses.applyLicenseChanges(...a);
  reconcileSuspensions: UserLicenses['reconcileSuspensions'] = (...a) => this.licenses.reconcileSuspensions(...a);
  suspendedCount: UserLicenses['suspendedCount'] = () => this.licenses.suspendedCount();
  suspendedByUser: UserLicenses['suspendedByUser'] = (...a) => this.licenses.suspendedByUser(...a);
}
