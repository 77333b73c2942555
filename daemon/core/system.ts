import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appRoot } from '../config.js';
import type { Store } from '../store/store.js';

/** This build: its version and the release date that the license's update service must cover. */
export interface BuildInfo {
  version: string;
  buildDate: string;
}

export function buildInfo(): BuildInfo {
  const pkg = JSON.parse(readFileSync(join(appRoot, 'package.json'), 'utf8')) as { version: string; releaseDate: string };
  return { version: pkg.version, buildDate: pkg.releaseDate };
}

/**
 * The appliance's system id ("4F2A-9C1B-77D0-E3A5"): created once at first
 * start and kept in the database. The vendor issues licenses for it.
 */
export async function ensureSystemId(store: Store): Promise<string> {
  return store.write(async (tx) => {
    const row = await tx.get<{ value: string }>("SELECT value FROM meta WHERE key = 'system_id'");
    if (row) return row.value;
    const id = randomBytes(8).toString('hex').toUpperCase().match(/.{4}/g)!.join('-');
    await tx.run("INSERT INTO meta (key, value) VALUES ('system_id', ?)", [id]);
    return id;
  });
}
