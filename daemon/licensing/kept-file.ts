import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

/**
 * Write a small file the licensing keeps beside the database (the trusted time,
 * the revocation list) so that a crash leaves the old one or the new one, never
 * part of one. One writer per file at a time (the caller serializes).
 */
export function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o640);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
