import { chmodSync, chownSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, closeSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { basename, join, resolve } from 'node:path';
import type { Store } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import { SCHEMA_VERSION } from '../store/migrations.js';
import { metaOfFile, sqliteRead } from '../store/meta.js';
import { defineRefusals, deParen, entry, fixed } from '../kernel/refusal.js';
import { defineMessages, type Message } from '../kernel/messages.js';
import { originOf, systemIdOf, type Fingerprint } from './system.js';

export const refuse = defineRefusals({
  JOB_BACKUP_NOT_FOUND: entry<{ file: string }>(404,
    (d) => ({ en: `The backup file "${d.file}" does not exist.`, de: `Die Sicherungsdatei "${d.file}" existiert nicht.` }),
    fixed({ en: 'List the backups with: pbxctl backup list', de: 'Zeigen Sie die Sicherungen an mit: pbxctl backup list' })),
  JOB_RESTORE_DAEMON_RUNNING: entry<{ socket: string }>(409,
    (d) => ({ en: `pbxd is running (its control socket "${d.socket}" answers); a backup can only be restored while it is stopped.`, de: `pbxd läuft (sein Steuer-Socket "${d.socket}" antwortet); eine Sicherung kann nur bei gestopptem Dienst zurückgespielt werden.` }),
    fixed({ en: 'Stop it first: systemctl stop pbxd; then restore, then start it again.', de: 'Stoppen Sie ihn zuerst: systemctl stop pbxd; dann zurückspielen und wieder starten.' })),
  JOB_RESTORE_FOREIGN: entry<{ file: string; dataSystemId: string; systemId: string }>(409,
    (d) => ({
      en: `"${d.file}" comes from another appliance (system ${d.dataSystemId}); restored here, this appliance would run in Entry mode until a rehost license for ${d.systemId} is installed. Nothing was changed.`,
      de: `"${d.file}" stammt von einer anderen Anlage (System ${d.dataSystemId}); hier zurückgespielt, liefe diese Anlage im Entry-Modus, bis eine Rehost-Lizenz für ${d.systemId} installiert ist. Es wurde nichts geändert.`,
    }),
    (d) => ({ en: `To restore it anyway, add --foreign; then ask the vendor for a rehost license for ${d.systemId} naming ${d.dataSystemId}.`, de: `Um sie trotzdem zurückzuspielen, fügen Sie --foreign hinzu; fordern Sie dann beim Hersteller eine Rehost-Lizenz für ${d.systemId} an, die ${d.dataSystemId} nennt.` })),
  JOB_RESTORE_NOT_A_BACKUP: entry<{ file: string; problem: string }>(422,
    (d) => ({ en: `"${d.file}" is not a usable pbxd backup (${d.problem}); nothing was changed.`, de: `"${d.file}" ist keine verwendbare pbxd-Sicherung${deParen(d.problem)}; es wurde nichts geändert.` }),
    fixed({ en: 'Choose another backup (pbxctl backup list).', de: 'Wählen Sie eine andere Sicherung (pbxctl backup list).' })),
});

export interface BackupFile {
  name: string;
  path: string;
  bytes: number;
  createdAt: string;
}

const NAME = /^pbxd-\d{8}-\d{6}(-\d+)?\.db$/;

function stamp(d: Date): string {
  const iso = d.toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

/** What a scheduled backup did (the job's result). */
const say = defineMessages({
  'backup.made': { en: 'backup {file} ({bytes} bytes)', de: 'Sicherung "{file}" ({bytes} Bytes)' },
  'backup.removed': { en: 'removed {count} old: {files}', de: '{count} alte entfernt: {files}' },
});

/** Online backups of the database into `<dataDir>/backups`, keeping the newest N. */
export class Backups {
  readonly dir: string;

  constructor(
    private readonly store: Store,
    dataDir: string,
    private readonly clock: Clock,
  ) {
    this.dir = join(dataDir, 'backups');
  }

  list(): BackupFile[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((n) => NAME.test(n))
      .map((name) => {
        const path = join(this.dir, name);
        const st = statSync(path);
        return { name, path, bytes: st.size, createdAt: st.mtime.toISOString(), mtime: st.mtimeMs };
      })
      .sort((a, b) => b.mtime - a.mtime || b.name.localeCompare(a.name))
      .map(({ mtime: _m, ...f }) => f);
  }

  /** A consistent copy of the live database (VACUUM INTO: writers are not held up). */
  async backup(): Promise<BackupFile> {
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    const base = `pbxd-${stamp(this.clock.now())}`;
    let name = `${base}.db`;
    for (let i = 2; existsSync(join(this.dir, name)); i++) name = `${base}-${i}.db`;
    const path = join(this.dir, name);
    await this.store.backupTo(path);
    return this.list().find((f) => f.name === name)!;
  }

  /** Delete all but the newest `keep` backups; returns the names removed. */
  rotate(keep: number): string[] {
    const old = this.list().slice(keep);
    for (const f of old) rmSync(f.path, { force: true });
    return old.map((f) => f.name);
  }

  async run(keep: number): Promise<Message[]> {
    const f = await this.backup();
    const removed = this.rotate(keep);
    const made = say('backup.made', { file: f.name, bytes: f.bytes });
    return removed.length ? [made, say('backup.removed', { count: removed.length, files: removed.join(', ') })] : [made];
  }
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(path);
    s.once('connect', () => (s.destroy(), res(true)));
    s.once('error', () => res(false));
  });
}

/** The schema version of a database file (PRAGMA user_version). */
async function schemaVersionOf(file: string): Promise<number> {
  const [row] = await sqliteRead<{ user_version: number }>(file, 'PRAGMA user_version');
  return row?.user_version ?? 0;
}

/** This host's system id: the current database's when it belongs here, else the one the host's fingerprint gives. */
async function hostSystemId(db: string, fingerprint: Fingerprint): Promise<string> {
  if (existsSync(db)) {
    try {
      const kept = await metaOfFile(db, ['system_id', 'host_fingerprint', 'system_id_adopted']);
      const get = (k: string) => kept.get(k) ?? null;
      const origin = originOf(get('system_id'), get('host_fingerprint'), fingerprint, await schemaVersionOf(db), get('system_id_adopted') === '1');
      if (origin.systemId && !origin.foreign) return origin.systemId;
    } catch {
      /* unreadable: the fingerprint decides */
    }
  }
  return systemIdOf(fingerprint);
}

/**
 * Put a backup in place of the database, with the daemon stopped.
 *
 * This is the one place outside Store that opens the database files: restore
 * runs exactly when there is no daemon (and so no Store) to ask, and it must
 * replace the file underneath, which no running owner could allow.
 */
export async function restoreBackup(opts: {
  dataDir: string;
  socket: string;
  file: string;
  now?: Date;
  /** This host's fingerprint: a backup made on another appliance is refused unless `foreign`. */
  fingerprint?: Fingerprint;
  foreign?: boolean;
}): Promise<{ restored: string; previous: string | null; foreignOrigin: { dataSystemId: string; systemId: string } | null }> {
  const file = resolve(opts.file);
  if (!existsSync(file)) throw refuse('JOB_BACKUP_NOT_FOUND', { file });
  if (await socketAnswers(opts.socket)) throw refuse('JOB_RESTORE_DAEMON_RUNNING', { socket: opts.socket });
  const latest = SCHEMA_VERSION;
  let foreignOrigin: { dataSystemId: string; systemId: string } | null = null;
  try {
    const check = await sqliteRead<{ integrity_check: string }>(file, 'PRAGMA integrity_check');
    const verdict = check.map((r) => r.integrity_check).join('; ');
    if (verdict !== 'ok') throw refuse('JOB_RESTORE_NOT_A_BACKUP', { file, problem: `integrity check: ${verdict}` });
    const version = await schemaVersionOf(file);
    if (version < 1) throw refuse('JOB_RESTORE_NOT_A_BACKUP', { file, problem: 'it has no pbxd schema' });
    if (version > latest) throw refuse('JOB_RESTORE_NOT_A_BACKUP', { file, problem: `it was made by a newer pbxd (schema ${version}, this one knows ${latest})` });
    const kept = await metaOfFile(file, ['system_id', 'host_fingerprint', 'system_id_adopted']);
    const dataSystemId = kept.get('system_id');
    if (!dataSystemId) throw refuse('JOB_RESTORE_NOT_A_BACKUP', { file, problem: 'it has no system id' });
    if (opts.fingerprint) {
      const origin = originOf(dataSystemId, kept.get('host_fingerprint') ?? null, opts.fingerprint, version, kept.get('system_id_adopted') === '1');
      if (origin.foreign) {
        foreignOrigin = { dataSystemId, systemId: await hostSystemId(join(opts.dataDir, 'pbxd.db'), opts.fingerprint) };
        if (!opts.foreign) throw refuse('JOB_RESTORE_FOREIGN', { file, ...foreignOrigin });
      }
    }
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('SQLITE_')) throw refuse('JOB_RESTORE_NOT_A_BACKUP', { file, problem: 'not an SQLite database' });
    throw e;
  }

  const db = join(opts.dataDir, 'pbxd.db');
  let previous: string | null = null;
  const owner = existsSync(db) ? statSync(db) : null;
  if (existsSync(db)) {
    previous = `${db}.before-restore-${stamp(opts.now ?? new Date())}`;
    renameSync(db, previous);
    // The WAL holds the newest commits of the old database; it moves with it, so the kept copy is complete.
    for (const ext of ['-wal', '-shm']) if (existsSync(db + ext)) renameSync(db + ext, previous + ext);
  }
  const tmp = `${db}.restoring`;
  copyFileSync(file, tmp);
  if (owner) {
    // Run as root, pbxctl would leave a root-owned database the pbxd user cannot write: keep the old owner and mode.
    chmodSync(tmp, owner.mode & 0o777);
    try {
      chownSync(tmp, owner.uid, owner.gid);
    } catch {
      /* not root: the file is already ours, as the old one was */
    }
  }
  const fd = openSync(tmp, 'r+');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, db);
  return { restored: basename(file), previous, foreignOrigin };
}
