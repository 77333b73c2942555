import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The rooms of the daemon stand on each other; no import runs back up.
 * kernel is used by everything and imports nothing of the domain; the store
 * only the kernel; licensing only kernel, store and configuration; the core
 * may use licensing; the adapters (HTTP, sockets, CLI, provisioning, jobs)
 * stand on top; main.ts and bin/ put everything together.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

type Room = 'kernel' | 'config' | 'store' | 'licensing' | 'core' | 'adapters' | 'main';

const MAY_IMPORT: Record<Room, Room[]> = {
  kernel: [],
  config: ['kernel'],
  store: ['kernel'],
  licensing: ['kernel', 'config', 'store'],
  core: ['kernel', 'config', 'store', 'licensing'],
  adapters: ['kernel', 'config', 'store', 'licensing', 'core', 'adapters'],
  main: ['kernel', 'config', 'store', 'licensing', 'core', 'adapters', 'main'],
};

/** Upward imports that stay for now, each with its reason and what removes it. */
const KNOWN_DEBT: Array<{ from: string; to: string; why: string }> = [];

function roomOf(file: string): Room | null {
  if (file.startsWith('daemon/kernel/')) return 'kernel';
  if (/^daemon\/config(-[a-z]+)?\.ts$/.test(file)) return 'config';
  if (file.startsWith('daemon/store/')) return 'store';
  if (file.startsWith('daemon/licensing/')) return 'licensing';
  if (file.startsWith('daemon/core/')) return 'core';
  if (/^daemon\/(http|ws|cli)\//.test(file) || file.startsWith('provisioning/')) return 'adapters';
  if (['daemon/feature.ts', 'daemon/scheduler.ts', 'daemon/resources-scheduler.ts', 'daemon/reload.ts', 'daemon/systemd.ts'].includes(file)) return 'adapters';
  if (file === 'daemon/main.ts' || file.startsWith('daemon/bin/')) return 'main';
  return null;
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every relative import (static, re-export or dynamic), types included: a type import ties the rooms as much. */
function imports(): Array<{ from: string; to: string }> {
  const out: Array<{ from: string; to: string }> = [];
  for (const from of [...sources('daemon'), ...sources('provisioning')]) {
    const text = readFileSync(join(ROOT, from), 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+)'/gm))
      out.push({ from, to: normalize(join(dirname(from), m[1]!)).replace(/\.js$/, '.ts') });
  }
  return out;
}

function upward(found: Array<{ from: string; to: string }>): string[] {
  return found
    .filter(({ from, to }) => {
      const a = roomOf(from);
      const b = roomOf(to);
      return a !== null && b !== null && !MAY_IMPORT[a].includes(b) && !(a === b);
    })
    .map(({ from, to }) => `${from} (${roomOf(from)}) imports ${to} (${roomOf(to)})`);
}

describe('rooms and layers: no import runs back up (no daemon)', () => {
  const found = imports();

  it('places every file of daemon/ and provisioning/ in a room', () => {
    const files = [...sources('daemon'), ...sources('provisioning')];
    expect(files.filter((f) => roomOf(f) === null), 'files in no room').to.deep.equal([]);
    expect(found.length, 'imports read').to.be.greaterThan(200);
  });

  it('finds an upward import when there is one', () => {
    expect(upward([{ from: 'daemon/licensing/licensing.ts', to: 'daemon/core/audit.ts' }])).to.have.length(1);
    expect(upward([{ from: 'daemon/kernel/log.ts', to: 'daemon/config.ts' }])).to.have.length(1);
    expect(upward([{ from: 'daemon/core/audit.ts', to: 'daemon/licensing/licensing.ts' }])).to.deep.equal([]);
  });

  it('has no import from a lower room to a higher one, besides the known debt', () => {
    const debt = (s: string) => KNOWN_DEBT.some((d) => s.startsWith(`${d.from} (`) && s.includes(` imports ${d.to} (`));
    expect(upward(found).filter((s) => !debt(s))).to.deep.equal([]);
  });

  it('still has each known debt (a paid debt is struck from the list)', () => {
    for (const d of KNOWN_DEBT) expect(found.some((i) => i.from === d.from && i.to === d.to), `${d.from} → ${d.to}: ${d.why}`).to.equal(true);
  });
});
