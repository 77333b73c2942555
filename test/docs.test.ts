import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { applyFills, countCommands, daemonEnv, extractBlocks, type DocBlock } from './support/doc-blocks.js';
import { BIN, ROOT, TestDaemon } from './support/daemon.js';

/**
 * Documentation that cannot rot: every ```sh block of README.md and docs/*.md
 * runs, in order, against a real development daemon in a temporary folder, as
 * a newcomer would type it — pbxctl and pbx-license on the PATH (what `npm link`
 * does), the daemon's data in ./var, an API token in $PBXD_TOKEN. Blocks marked
 * `<!-- doc-test: skip (reason) -->` are counted and listed, not run.
 */
const files = ['README.md', ...(existsSync(join(ROOT, 'docs')) ? readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`) : [])];
const BLOCK_TIMEOUT_MS = 120_000;

interface Tally {
  ran: number;
  documented: number;
  skipped: Array<{ where: string; reason: string; commands: number }>;
}
const tally: Tally = { ran: 0, documented: 0, skipped: [] };

/** The commands a checkout's `npm link` puts on the PATH. */
function linkedBin(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const tools = { pbxd: BIN.pbxd, pbxctl: BIN.pbxctl, 'pbx-license': BIN.pbxLicense, 'pbx-activation-server': join(ROOT, 'dist/tools/activation-server.js') };
  for (const [name, js] of Object.entries(tools)) {
    writeFileSync(join(bin, name), `#!/bin/sh\nexec "${process.execPath}" "${js}" "$@"\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return bin;
}

/**
 * Development addresses in the docs (127.0.0.1:8080, :6970, …) name the daemon's
 * default ports; the test's daemon listens on free ones, so the block is
 * rewritten to them, as a reader with other ports would.
 */
function addresses(d: TestDaemon): Array<[RegExp, string]> {
  const port = (name: string) => d.listeners[name]?.split(':').at(-1);
  const pairs: Array<[string, string | undefined]> = [
    ['8080', port('api')],
    ['6970', port('provisioning_http')],
    ['6971', port('provisioning_https')],
    ['18443', port('wpi')],
  ];
  return pairs.filter((p): p is [string, string] => Boolean(p[1])).map(([def, actual]) => [new RegExp(`(127\\.0\\.0\\.1|localhost):${def}\\b`, 'g'), `127.0.0.1:${actual}`]);
}

/** A port nothing listens on now, for a server a page's example starts (an activation server, …). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/**
 * Each block in its own bash, with the variables and folder the previous one
 * left; in a process group of its own, so whatever it left running in the
 * background is stopped with the file.
 */
function runBlock(code: string, cwd: string, env: NodeJS.ProcessEnv, stateDir: string, groups: number[]): Promise<{ ok: boolean; output: string }> {
  const script = [
    `[ -f ${stateDir}/env ] && source ${stateDir}/env`,
    `cd "$(cat ${stateDir}/cwd)"`,
    'set -eo pipefail',
    code,
    `export -p > ${stateDir}/env; pwd > ${stateDir}/cwd`,
  ].join('\n');
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    groups.push(child.pid!);
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      output += `\n(killed after ${BLOCK_TIMEOUT_MS} ms)`;
      stopGroup(child.pid!);
    }, BLOCK_TIMEOUT_MS);
    // 'exit', not 'close': a server the block started in the background may hold the pipes.
    child.on('exit', (code) => {
      clearTimeout(timer);
      setImmediate(() => resolve({ ok: code === 0, output }));
    });
  });
}

function stopGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    /* the group is gone already */
  }
}

describe('documentation: every shell example runs as written', function () {
  this.timeout(15 * 60_000);

  it('counts the commands of a block as a reader sees them', () => {
    expect(countCommands('# a comment\npbxctl status\n\ncurl -H "x" \\\n  http://h/ | head -5\necho \'{\n "a": 1 }\' > f.json\ncat <<EOF > g\nline\nEOF\n')).to.equal(4);
    const [b] = extractBlocks('x.md', 'text\n<!-- doc-test: skip (needs root) -->\n```sh\nsudo x\n```\n');
    expect(b!.skip).to.equal('needs root');
    const [c] = extractBlocks('x.md', '<!-- doc-test: fill SYS-ID from /System id:\\s+(\\S+)/ -->\n```sh\nissue --system-id SYS-ID\n```\n');
    expect(applyFills(c!, 'System id:   AB12-CD34\n')).to.equal('issue --system-id AB12-CD34');
  });

  for (const file of files) {
    it(`${file}`, async function () {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const blocks: DocBlock[] = extractBlocks(file, text);
      const runnable = blocks.filter((b) => !b.skip);
      for (const b of blocks) {
        tally.documented += b.commands;
        if (b.skip) tally.skipped.push({ where: `${file}:${b.line}`, reason: b.skip, commands: b.commands });
      }
      if (!runnable.length) return;

      const dir = mkdtempSync(join(tmpdir(), 'pbxd-doc-'));
      mkdirSync(join(dir, 'var'));
      // The folder stands for the checkout: the examples' files are where a reader finds them.
      for (const sub of ['docs', 'tools']) symlinkSync(join(ROOT, sub), join(dir, sub));
      // Ports of other servers the page starts (named in its daemon-env) move to free ones too.
      const extraPorts: Array<[RegExp, string]> = [];
      const wantedEnv = daemonEnv(text);
      for (const [k, v] of Object.entries(wantedEnv)) {
        const m = /127\.0\.0\.1:(\d+)/.exec(v);
        if (!m) continue;
        const port = String(await freePort());
        extraPorts.push([new RegExp(`127\\.0\\.0\\.1:${m[1]}\\b`, 'g'), `127.0.0.1:${port}`], [new RegExp(`--port ${m[1]}\\b`, 'g'), `--port ${port}`]);
        wantedEnv[k] = v.replace(`:${m[1]}`, `:${port}`);
      }
      // A fresh development daemon: data in ./var, development defaults, free ports.
      const d = await TestDaemon.start({
        dataDir: join(dir, 'var'),
        config: { http: { host: '127.0.0.1', port: 0 }, admin: {}, log: { level: 'info' }, dev: { clockControl: false } },
        env: wantedEnv,
      });
      const groups: number[] = [];
      try {
        const token = (await d.ctl(['token', 'create', '--label', 'doc-test'])).stdout.trim();
        const stateDir = join(dir, '.doc-test');
        mkdirSync(stateDir);
        writeFileSync(join(stateDir, 'cwd'), dir);
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          PATH: `${linkedBin(stateDir)}:${process.env.PATH}`,
          PBXD_CONFIG: d.configFile,
          PBXD_TOKEN: token,
          LANG: 'C.UTF-8',
          HOME: dir,
        };
        delete env.PBXCTL_SOCKET;
        delete env.PBXCTL_URL;
        const rewrite = [...addresses(d), ...extraPorts];
        let earlier = '';
        for (const b of runnable) {
          let code = applyFills(b, earlier);
          for (const [re, to] of rewrite) code = code.replace(re, to);
          const r = await runBlock(code, dir, env, stateDir, groups);
          earlier += r.output;
          // DOC_TEST_SHOW=1: print what each block printed, to check the prose around it.
          if (process.env.DOC_TEST_SHOW) console.log(`\n--- ${file}:${b.line}\n${code}\n---\n${r.output}`);
          expect(r.ok, `${file}:${b.line}: the block failed\n--- block ---\n${code}\n--- output ---\n${r.output}`).to.equal(true);
          tally.ran += b.commands;
        }
      } finally {
        groups.forEach(stopGroup);
        await d.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  after(() => {
    const skippedCommands = tally.skipped.reduce((n, s) => n + s.commands, 0);
    const runnable = tally.documented - skippedCommands;
    console.log(`\n      ${tally.ran} of ${runnable} documented commands ran (${tally.documented} documented, ${skippedCommands} marked not runnable):`);
    for (const s of tally.skipped) console.log(`        ${s.where}: ${s.reason}`);
  });
});
