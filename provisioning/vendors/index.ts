import { ciscoEnterprise } from './cisco-enterprise.js';
import { ciscoMpp } from './cisco-mpp.js';
import { gigaset } from './gigaset.js';
import { snom } from './snom.js';
import { unify } from './unify.js';
import { moduleOf, type Vendor, type VendorModule } from './vendor.js';
import { yealink } from './yealink.js';

/**
 * The vendor list: every family of phones pbxd provisions, one module each.
 * Adding a vendor is a new module here. Order matters where paths are shared
 * (`<mac>.xml`): a module that knows the User-Agent wins; without one, the
 * device table decides.
 */
export const VENDOR_MODULES: readonly VendorModule[] = [ciscoMpp, ciscoEnterprise, unify, gigaset, yealink, snom];

export type { Vendor };

/** The device-table families, in list order. */
export const VENDORS: readonly Vendor[] = [...new Set(VENDOR_MODULES.map((m) => m.vendor))];

/** The support license a family's phones take (none for DECT bases): the rule, read off the modules. */
export const LICENSE_CODE: Partial<Record<Vendor, string>> = Object.fromEntries(VENDOR_MODULES.filter((m) => m.license).map((m) => [m.vendor, m.license]));

export const moduleOfDevice = (d: { vendor: string; model: string }): VendorModule | undefined => moduleOf(VENDOR_MODULES, d);
