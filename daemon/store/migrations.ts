import type { Logger } from '../kernel/log.js';
import { firstTables } from './migrations/v1-v6.js';
import { laterChanges } from './migrations/v7-v18.js';
import type { Migration } from './migrations/migration.js';

/**
 * Versioned schema. A migration is applied once, in its own transaction, and
 * recorded in PRAGMA user_version. Never edit a migration that has shipped:
 * add the next one (in the last file of migrations/, or a new file for a new era).
 */

export const migrations: Migration[] = [...firstTables, ...laterChanges].sort((a, b) => a.version - b.version);

/** The schema version this pbxd writes (a database or backup with a higher one was made by a newer pbxd). */
export const SCHEMA_VERSION = migrations[migrations.length - 1]!.version;

/** What the runner needs of a connection. */
interface SchemaConnection {
  get<T>(sql: string, params?: Array<string | number>): Promise<T | undefined>;
  run(sql: string, params?: Array<string | number>): Promise<unknown>;
  exec(sql: string): Promise<void>;
}

/** Brings the file to the latest schema; answers the version it had. */
export async function migrate(db: SchemaConnection, file: string, existed: boolean, log: Logger): Promise<number> {
  const { user_version: current } = (await db.get<{ user_version: number }>('PRAGMA user_version'))!;
  const pending = migrations.filter((m) => m.version > current);
  if (pending.length === 0) return current;
  if (existed && current > 0) {
    // Keep the database as it was before an upgrade, so a failed upgrade can be rolled back by hand.
    const backup = `${file}.before-v${pending[pending.length - 1]!.version}`;
    await db.run('VACUUM INTO ?', [backup]);
    log.notice('database backed up before migration', { backup, from: current });
  }
  for (const m of pending) {
    await db.exec('BEGIN IMMEDIATE');
    try {
      await db.exec(m.sql);
      await db.exec(`PRAGMA user_version=${m.version}`);
      await db.exec('COMMIT');
    } catch (e) {
      await db.exec('ROLLBACK');
      throw new Error(`migration ${m.version} (${m.name}) failed: ${(e as Error).message}`);
    }
    log.info('database migrated', { version: m.version, name: m.name });
  }
  return current;
}
