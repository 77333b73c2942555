import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Real storage faults for the daemon's data folder, made so that they work as
 * root (tests run as root here and in CI, and root ignores permission bits):
 *
 * - a full disk: the data folder is a small tmpfs that we fill to the last byte
 *   (ENOSPC from the kernel). Where mounting is not allowed (a container without
 *   CAP_SYS_ADMIN), the daemon's file size limit is lowered to what its files
 *   hold now with prlimit(1), so any growth fails with EFBIG: also a refusal by
 *   the kernel, not by our code.
 * - a read-only data folder: `chattr +i` on the folder and the database files.
 *   The immutable flag binds root too, and ext4 refuses writes even through
 *   file descriptors opened before (EPERM). A read-only remount is no option:
 *   the kernel refuses it (EBUSY) while the daemon holds its database open for writing.
 */
export class FullDisk {
  private filler: string | null = null;
  private constructor(
    readonly dataDir: string,
    readonly kind: 'tmpfs' | 'fsize-limit',
    private readonly mountPoint: string | null,
  ) {}

  static create(sizeMiB = 16): FullDisk {
    const base = mkdtempSync(join(tmpdir(), 'pbxd-disk-'));
    try {
      // PBXD_TEST_DISK=fsize tries the fallback where mounting would work.
      if (process.env.PBXD_TEST_DISK === 'fsize') throw new Error('mount not wanted');
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0750`, 'pbxd-test', base], { stdio: 'pipe' });
      mkdirSync(join(base, 'data'));
      return new FullDisk(join(base, 'data'), 'tmpfs', base);
    } catch {
      mkdirSync(join(base, 'data'), { recursive: true });
      return new FullDisk(join(base, 'data'), 'fsize-limit', null);
    }
  }

  /** Take every free byte (tmpfs), or forbid the daemon's files to grow (prlimit). */
  fill(pid: number): void {
    if (this.kind === 'fsize-limit') {
      const biggest = Math.max(...readdirSync(this.dataDir).map((f) => statSync(join(this.dataDir, f)).size));
      execFileSync('prlimit', ['--pid', String(pid), `--fsize=${biggest}:unlimited`]);
      return;
    }
    this.filler = join(this.mountPoint!, 'filler');
    const fd = openSync(this.filler, 'w');
    const block = Buffer.alloc(64 * 1024, 0x55);
    try {
      for (;;) writeSync(fd, block);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    }
    // The last partial block, byte by byte down to nothing.
    for (let size = block.length / 2; size >= 1; size = Math.floor(size / 2)) {
      try {
        for (;;) writeSync(fd, block.subarray(0, size));
      } catch {
        /* next smaller size */
      }
    }
    closeSync(fd);
  }

  /** Space (or growth) is back. */
  free(pid: number): void {
    if (this.kind === 'fsize-limit') execFileSync('prlimit', ['--pid', String(pid), '--fsize=unlimited:unlimited']);
    else if (this.filler) (unlinkSync(this.filler), (this.filler = null));
  }

  dispose(): void {
    if (this.mountPoint) execFileSync('umount', ['-l', this.mountPoint]);
    rmSync(this.mountPoint ?? join(this.dataDir, '..'), { recursive: true, force: true });
  }
}

/** Whether `chattr +i` stops writes through an open descriptor on the file system of `dir`. */
export function immutableBindsOpenFiles(dir: string): boolean {
  mkdirSync(dir, { recursive: true });
  const probe = join(dir, '.immutable-probe');
  const fd = openSync(probe, 'w');
  try {
    execFileSync('chattr', ['+i', probe], { stdio: 'pipe' });
  } catch {
    closeSync(fd);
    unlinkSync(probe);
    return false;
  }
  let refused = false;
  try {
    writeSync(fd, 'x');
  } catch {
    refused = true;
  }
  execFileSync('chattr', ['-i', probe]);
  closeSync(fd);
  unlinkSync(probe);
  return refused;
}

/**
 * A data folder on a file system where `chattr +i` binds open files: the test's
 * tmpdir when it is ext4 (or another that honours the flag), else a small
 * loop-mounted ext4 image where mounting is allowed.
 */
export function immutableCapableFolder(): { dataDir: string; kind: string; dispose: () => void } {
  const dataDir = mkdtempSync(join(tmpdir(), 'pbxd-ro-'));
  // PBXD_TEST_DISK=loop tries the fallback where the tmpdir would do.
  if (process.env.PBXD_TEST_DISK !== 'loop' && immutableBindsOpenFiles(dataDir)) return { dataDir, kind: 'tmpdir', dispose: () => rmSync(dataDir, { recursive: true, force: true }) };
  const image = join(dataDir, 'ext4.img');
  const mountPoint = join(dataDir, 'mnt');
  mkdirSync(mountPoint);
  execFileSync('truncate', ['-s', '64M', image]);
  execFileSync('mkfs.ext4', ['-q', '-F', image], { stdio: 'pipe' });
  execFileSync('mount', ['-o', 'loop', image, mountPoint], { stdio: 'pipe' });
  return {
    dataDir: mountPoint,
    kind: 'loop-mounted ext4',
    dispose: () => {
      execFileSync('umount', ['-l', mountPoint]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Make the data folder and its database files immutable (read-only even for root), or writable again. */
export function setReadOnly(dataDir: string, readOnly: boolean): void {
  // Not the -shm file: SQLite maps it into memory, and a write fault on an immutable mapping would be a SIGBUS, not a write error.
  const files = readdirSync(dataDir).filter((f) => f === 'pbxd.db' || f === 'pbxd.db-wal').map((f) => join(dataDir, f));
  execFileSync('chattr', [readOnly ? '+i' : '-i', ...files, dataDir]);
}
