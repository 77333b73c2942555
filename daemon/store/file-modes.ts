import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Files and folders under the data folder that users other than pbxd's own
 * could read (group or other read bit). pbxd creates everything 0600/0700
 * (umask 0077); what this finds was made by someone else, or before.
 * Looks at most `limit` entries deep-first, so a huge folder costs little.
 */
export function readableByOthers(dir: string, limit = 5000): string[] {
  const found: string[] = [];
  let seen = 0;
  const walk = (d: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      if (++seen > limit) return;
      const p = join(d, n);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isSymbolicLink()) continue;
      if (st.mode & 0o044) found.push(p);
      if (st.isDirectory() && depth < 4) walk(p, depth + 1);
    }
  };
  walk(dir, 0);
  return found;
}
