import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store, Tx } from '../store/store.js';
import type { Clock } from '../kernel/clock.js';
import { isRefusal } from '../kernel/refusal.js';
import { readMeta, writeMeta } from '../store/meta.js';
import type { RevocationList } from './format.js';
import { writeAtomically } from './kept-file.js';
import type { LicenseVerifier } from './verifier.js';

/** Beside the database in the data folder. */
const REVOCATIONS_FILE = 'revocations.txt';

const NOTHING_REVOKED = { serials: new Set<string>(), licenseIds: new Set<string>() };

/**
 * The vendor's revocation list in force: the newest seen, kept both in the
 * database and beside it in the data folder (a restored database does not
 * lose it), and handed to the verifier as sets.
 */
export class Revocations {
  private inForce: { list: RevocationList; text: string; serials: Set<string>; licenseIds: Set<string> } | null = null;

  constructor(
    private readonly store: Store,
    private readonly verifier: LicenseVerifier,
    private readonly clock: Clock,
    private readonly dataDir: string | undefined,
  ) {
    verifier.setRevocationSource(() => this.inForce ?? NOTHING_REVOKED);
  }

  private get file(): string | null {
    return this.dataDir ? join(this.dataDir, REVOCATIONS_FILE) : null;
  }

  private keep(list: RevocationList, text: string): void {
    this.inForce = { list, text, serials: new Set(list.serials.map((x) => x.toUpperCase())), licenseIds: new Set(list.licenseIds) };
  }

  /** At start: the newest of the list kept in the database and the one kept beside it. */
  async load(): Promise<void> {
    const kept = await readMeta(this.store, 'revocation_list');
    let fileText: string | null = null;
    try {
      fileText = this.file ? readFileSync(this.file, 'utf8') : null;
    } catch {
      /* none kept */
    }
    for (const text of [kept, fileText]) {
      if (!text) continue;
      try {
        const list = this.verifier.verifyRevocations(text, this.clock.now(), 'stored');
        if (!this.inForce || list.issuedAt > this.inForce.list.issuedAt) this.keep(list, text);
      } catch (e) {
        if (!isRefusal(e)) throw e; // a damaged copy is ignored; the other one (or none) stands
      }
    }
  }

  summary(): { issuedAt: string; serials: number; licenseIds: number } | null {
    const r = this.inForce;
    return r ? { issuedAt: r.list.issuedAt, serials: r.list.serials.length, licenseIds: r.list.licenseIds.length } : null;
  }

  /**
   * Verify a list and keep it if newer than the one in force; `record` adds
   * the caller's audit entry inside the same write.
   */
  async apply(text: string, record: (tx: Tx, list: RevocationList) => Promise<void>): Promise<{ applied: boolean; issuedAt: string }> {
    const list = this.verifier.verifyRevocations(text, this.clock.now());
    // Newer than the one in force is judged inside the write: of two lists applied at once, the newer stands.
    return this.store.write(async (tx) => {
      if (this.inForce && list.issuedAt <= this.inForce.list.issuedAt) return { applied: false, issuedAt: this.inForce.list.issuedAt };
      await writeMeta(tx, 'revocation_list', text);
      await record(tx, list);
      const before = this.inForce;
      this.keep(list, text);
      tx.onRollback(() => (this.inForce = before));
      tx.afterCommit(() => this.file && writeAtomically(this.file, text));
      return { applied: true, issuedAt: list.issuedAt };
    });
  }
}
