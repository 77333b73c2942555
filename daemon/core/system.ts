import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appRoot } from '../config.js';
import type { Store, Tx } from '../store/store.js';
import { readMeta, writeMeta } from '../store/meta.js';

/** This build: its version and the release date that the license's update service must cover. */
export interface BuildInfo {
  version: string;
  buildDate: string;
}

export function buildInfo(): BuildInfo {
  const pkg = JSON.parse(readFileSync(join(appRoot, 'package.json'), 'utf8')) as { version: string; releaseDate: string };
  return { version: pkg.version, buildDate: pkg.releaseDate };
}

/** Where the host's identity is read from (configurable, so tests can present two hosts). */
interface HostSources {
  /** systemd's machine id. Cloned images share it, so it is never enough on its own. */
  machineIdFile: string;
  /** The DMI product UUID (root-only in sysfs: the unit hands it over as a systemd credential). */
  productUuidFile: string;
  /** The network interfaces: the first one backed by a device gives its MAC address. */
  netDir: string;
  /** The root file system's UUID (the unit writes it at start with findmnt: the sandbox hides /dev/disk). */
  rootFsUuidFile: string;
}

/** Component name → a one-way hash of its value. The values themselves never leave the appliance, nor are they stored. */
export type Fingerprint = Record<string, string>;

const COMPONENT_DOMAIN = 'pbxd host component v1';
const SYSFS_PRODUCT_UUID = '/sys/class/dmi/id/product_uuid';

function readTrimmed(file: string): string | null {
  try {
    const v = readFileSync(file, 'utf8').trim().toLowerCase();
    return v && !/^0+$/.test(v.replace(/[^0-9a-f]/g, '')) ? v : null;
  } catch {
    return null; // missing or not readable (a VM without DMI, a container): the id is built from what exists
  }
}

function primaryMac(netDir: string): string | null {
  let names: string[];
  try {
    names = readdirSync(netDir).sort();
  } catch {
    return null;
  }
  for (const n of names) {
    if (n === 'lo' || !existsSync(join(netDir, n, 'device'))) continue; // virtual interfaces (bridges, veth, tun) have no device
    const mac = readTrimmed(join(netDir, n, 'address'));
    if (mac && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac)) return mac;
  }
  return null;
}

/** The host's components, each hashed; missing ones are left out. */
export function hostFingerprint(src: HostSources, env: NodeJS.ProcessEnv = process.env): Fingerprint {
  const credential = env.CREDENTIALS_DIRECTORY ? join(env.CREDENTIALS_DIRECTORY, 'product_uuid') : null;
  const raw: Array<[string, string | null]> = [
    ['machine-id', readTrimmed(src.machineIdFile)],
    // The copy the unit made, else sysfs itself (readable by root: pbxctl backup restore with pbxd stopped).
    ['product-uuid', (credential && readTrimmed(credential)) || readTrimmed(src.productUuidFile) || readTrimmed(SYSFS_PRODUCT_UUID)],
    ['nic-mac', primaryMac(src.netDir)],
    ['rootfs-uuid', readTrimmed(src.rootFsUuidFile)],
  ];
  const fp: Fingerprint = {};
  for (const [name, value] of raw) if (value) fp[name] = createHash('sha256').update(`${COMPONENT_DOMAIN}\0${name}\0${value}`).digest('hex').slice(0, 32);
  return fp;
}

/** One hash of the whole fingerprint (the usage report carries it, never the components). */
export function fingerprintDigest(fp: Fingerprint): string {
  return createHash('sha256').update(Object.keys(fp).sort().map((k) => `${k}=${fp[k]}`).join('\n')).digest('hex');
}

const formatId = (hex: string) => hex.slice(0, 16).toUpperCase().match(/.{4}/g)!.join('-');

/** The system id a host with this fingerprint gets ("4F2A-9C1B-77D0-E3A5"); random when nothing identifies the host. */
export function systemIdOf(fp: Fingerprint): string {
  return Object.keys(fp).length ? formatId(fingerprintDigest(fp)) : formatId(randomBytes(8).toString('hex'));
}

/**
 * Whether data bound to `stored` belongs on a host with `current`: most of the
 * stored components must match (Keygen's "match most"), so a changed NIC or a
 * new disk keeps the id, while a clone (same machine id, new DMI UUID and MAC)
 * or a copy to other hardware does not.
 */
function sameHost(stored: Fingerprint, current: Fingerprint): boolean {
  const names = Object.keys(stored);
  // Nothing stored to compare (an emptied row on a copied folder) matches only a host that has nothing either.
  if (names.length === 0) return Object.keys(current).length === 0;
  const matched = names.filter((n) => current[n] === stored[n]).length;
  return matched * 2 > names.length;
}

interface SystemIdentity {
  /** The id licenses must name: this host's. */
  systemId: string;
  /** Set when the database was made on another appliance: its system id (the appliance runs in Entry until a rehost license). */
  foreign: { dataSystemId: string } | null;
  /** Components that changed within the tolerance (their new hashes are kept). */
  changed: string[];
  /** Components found on this host. */
  components: string[];
  /** The database had no fingerprint yet (made by a build before host binding): it was bound to this host now. */
  adopted: boolean;
}

const META_ID = 'system_id';
const META_FP = 'host_fingerprint';
/** '1': the id came from a build before host binding (random), so no fingerprint gives it. */
const META_ADOPTED = 'system_id_adopted';

/**
 * Whether data bound by `stored` (with system id `id`) is this host's: most
 * components match, and the id is the one the binding's fingerprint gives, so
 * a rewritten id row does not make another appliance's license fit. An id
 * adopted from before host binding cannot be checked that way (docs/enforcement.md).
 */
function boundHere(id: string, stored: Fingerprint, current: Fingerprint, adopted: boolean): boolean {
  if (!sameHost(stored, current)) return false;
  return adopted || Object.keys(stored).length === 0 || id === systemIdOf(stored);
}

/**
 * The appliance's system id and whether its database belongs to this host.
 * A new database gets the id derived from the host's fingerprint, stored with
 * the fingerprint. A database from another appliance (restored or copied) is
 * kept as it is, untouched, and reported as foreign.
 */
export async function resolveIdentity(store: Store, current: Fingerprint): Promise<SystemIdentity> {
  return store.write(async (tx) => {
    const id = await readMeta(tx, META_ID);
    const storedText = await readMeta(tx, META_FP);
    const adopted = (await readMeta(tx, META_ADOPTED)) === '1';
    const components = Object.keys(current).sort();
    if (!id) {
      const systemId = systemIdOf(current);
      await writeMeta(tx, META_ID, systemId);
      await writeMeta(tx, META_FP, JSON.stringify(current));
      return { systemId, foreign: null, changed: [], components, adopted: false };
    }
    if (storedText === null) {
      // Removed from a bound database (sqlite3 on a copied folder): another appliance's data.
      if (!adoptable(store.versionAtOpen)) return { systemId: systemIdOf(current), foreign: { dataSystemId: id }, changed: [], components, adopted: false };
      await writeMeta(tx, META_FP, JSON.stringify(current));
      await writeMeta(tx, META_ADOPTED, '1');
      return { systemId: id, foreign: null, changed: [], components, adopted: true };
    }
    const stored = JSON.parse(storedText) as Fingerprint;
    if (!boundHere(id, stored, current, adopted)) return { systemId: systemIdOf(current), foreign: { dataSystemId: id }, changed: [], components, adopted: false };
    // The binding is kept as made: the tolerance is measured against it, not against the last start.
    const changed = Object.keys(current).filter((n) => stored[n] !== current[n]);
    return { systemId: id, foreign: null, changed, components, adopted: false };
  });
}

/** Inside the write that activates a rehost license: the data now belongs to this host and its id. */
export async function bindToHost(tx: Tx, systemId: string, current: Fingerprint): Promise<void> {
  await writeMeta(tx, META_ID, systemId);
  await writeMeta(tx, META_FP, JSON.stringify(current));
  await writeMeta(tx, META_ADOPTED, '0');
}

/**
 * Databases at this schema version or later were written by a pbxd that binds
 * its data to the host when it first starts. Only an older one may be found
 * without a binding and adopted; a newer one without it had it removed.
 */
const BOUND_SINCE_SCHEMA = 10;
const adoptable = (schemaVersion: number) => schemaVersion < BOUND_SINCE_SCHEMA;

/** What a database file says of its origin (backup restore asks before replacing anything). */
export function originOf(id: string | null, fpText: string | null, current: Fingerprint, schemaVersion: number, adopted = false): { systemId: string | null; foreign: boolean } {
  if (!id) return { systemId: null, foreign: false };
  if (fpText === null) return { systemId: id, foreign: !adoptable(schemaVersion) };
  return { systemId: id, foreign: !boundHere(id, JSON.parse(fpText) as Fingerprint, current, adopted) };
}
