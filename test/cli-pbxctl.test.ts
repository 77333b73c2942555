import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { BIN, ROOT, TestDaemon } from './support/daemon.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** pbxctl as an admin runs it: no --socket unless given, in a folder, with an environment of its own. */
function pbxctl(args: string[], opts: { cwd?: string; env?: Record<string, string>; bin?: string } = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C', ...opts.env };
  return new Promise((resolve) => {
    execFile(process.execPath, [opts.bin ?? BIN.pbxctl, ...args], { cwd: opts.cwd ?? ROOT, env }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('pbxctl: says what is wrong, finds its daemon, takes options anywhere', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(async () => d.dispose());

  it('takes the global options before the command as well as after it', async () => {
    const before = await pbxctl(['--socket', d.socketPath, '--json', 'status']);
    expect(before.code, before.stderr).to.equal(0);
    expect(JSON.parse(before.stdout).systemId).to.equal(d.systemId);
    const mixed = await pbxctl(['users', '--socket', d.socketPath, 'add', 'ole', '--first', 'Ole']);
    expect(mixed.code, mixed.stderr).to.equal(0);
    const token = await d.adminToken();
    const overHttp = await pbxctl(['--url', d.apiUrl, '--token', token, 'users', 'list', '--q', 'ole']);
    expect(overHttp.code, overHttp.stderr).to.equal(0);
    expect(overHttp.stdout).to.match(/^ole\s+Ole/m);
  });

  it('finds the socket from --config or PBXD_CONFIG, wherever it runs', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'pbxctl-cwd-'));
    try {
      const byEnv = await pbxctl(['status'], { cwd: elsewhere, env: { PBXD_CONFIG: d.configFile } });
      expect(byEnv.code, byEnv.stderr).to.equal(0);
      expect(byEnv.stdout).to.contain(d.systemId);
      const byFlag = await pbxctl(['--config', d.configFile, 'status'], { cwd: elsewhere });
      expect(byFlag.code, byFlag.stderr).to.equal(0);
      expect(byFlag.stdout).to.contain(d.systemId);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it("finds a checkout's ./var socket from any of its subfolders", async () => {
    // A checkout of its own (the built files, a .git marker) whose ./var holds a running daemon's data.
    const checkout = mkdtempSync(join(tmpdir(), 'pbxd-checkout-'));
    let own: TestDaemon | undefined;
    try {
      mkdirSync(join(checkout, '.git'));
      cpSync(join(ROOT, 'package.json'), join(checkout, 'package.json'));
      symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
      for (const dir of ['daemon', 'tools']) cpSync(join(ROOT, 'dist', dir), join(checkout, 'dist', dir), { recursive: true });
      mkdirSync(join(checkout, 'var'));
      own = await TestDaemon.start({ dataDir: join(checkout, 'var'), config: { control: { socket: join(checkout, 'var', 'pbxctl.sock') } } });
      const deep = join(checkout, 'dist', 'daemon', 'cli');
      const r = await pbxctl(['status'], { cwd: deep, bin: join(checkout, 'dist/daemon/bin/pbxctl.js') });
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.contain(own.systemId);
    } finally {
      await own?.stop();
      rmSync(checkout, { recursive: true, force: true });
    }
  });

  it('says "cannot reach pbxd" only when the socket does not answer', async () => {
    const r = await pbxctl(['--socket', join(d.dataDir, 'no-such.sock'), 'status']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('cannot reach pbxd').and.contain('no-such.sock');
  });

  it('names a missing input file instead of blaming the daemon, and changes nothing', async () => {
    const before = (await d.status()).licenseId;
    const r = await pbxctl(['license', 'install', '/no/such/license.lic', '--socket', d.socketPath]);
    expect(r.code).to.equal(1);
    expect(r.stderr.trim()).to.equal('pbxctl: cannot read /no/such/license.lic: no such file');
    expect((await d.status()).licenseId).to.equal(before);
    const imp = await pbxctl(['users', 'import', '/no/such/users.csv', '--socket', d.socketPath]);
    expect(imp.stderr).to.contain('/no/such/users.csv').and.not.contain('cannot reach');
    const de = await pbxctl(['license', 'install', '/no/such/license.lic', '--socket', d.socketPath], { env: { LANG: 'de_DE.UTF-8' } });
    expect(de.stderr.trim()).to.equal('pbxctl: /no/such/license.lic kann nicht gelesen werden: Die Datei existiert nicht');
  });

  it('backup restore asks the socket in PBXCTL_SOCKET whether pbxd still runs', async () => {
    const made = await pbxctl(['backup', 'now', '--socket', d.socketPath, '--json']);
    expect(made.code, made.stderr).to.equal(0);
    const backups = join(d.dataDir, 'backups');
    const file = join(backups, readdirSync(backups).find((f) => f.endsWith('.db'))!);
    const dbBefore = statSync(join(d.dataDir, 'pbxd.db')).mtimeMs;
    const elsewhere = mkdtempSync(join(tmpdir(), 'pbxctl-cwd-'));
    try {
      // No config names this daemon: only PBXCTL_SOCKET says where it listens.
      const r = await pbxctl(['backup', 'restore', file, '--data-dir', d.dataDir], { cwd: elsewhere, env: { PBXCTL_SOCKET: d.socketPath } });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.contain('JOB_RESTORE_DAEMON_RUNNING');
      expect(readdirSync(d.dataDir).filter((f) => f.includes('before-restore'))).to.deep.equal([]);
      expect(statSync(join(d.dataDir, 'pbxd.db')).mtimeMs).to.equal(dbBefore);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('prints a refusal in German under LANG=de_*, and its code', async () => {
    const r = await pbxctl(['users', 'add', 'ole', '--first', 'Ole', '--socket', d.socketPath], { env: { LANG: 'de_DE.UTF-8' } });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/^pbxctl: REQ_CONFLICT: /);
    expect(r.stderr).to.contain('"ole"');
    expect(r.stderr).to.not.match(/\bUser\b/);
  });
});

describe('pbxd started from a checkout (npm start)', function () {
  this.timeout(30_000);

  it('says where the web UI is and where the first password is', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pbxd-start-'));
    const env = { PATH: process.env.PATH, PBXD_DEV: '1', PBXD_HTTP_PORT: '0', PBXD_PROVISIONING_HOST: '127.0.0.1', PBXD_PROVISIONING_HTTP_PORT: '0', PBXD_PROVISIONING_HTTPS_PORT: '0', PBXD_PROVISIONING_WPI_PORT: '0' };
    const child = spawn(process.execPath, [BIN.pbxd], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /^pbxd is ready: .*$/m.exec(out);
          if (m) resolve(m[0]);
        });
        child.on('exit', (code) => reject(new Error(`pbxd exited with ${code}:\n${out}`)));
      });
      const api = /http:\/\/(127\.0\.0\.1:\d+)\//.exec(line)?.[1];
      expect(line).to.match(/^pbxd is ready: open http:\/\/127\.0\.0\.1:\d+\/ and log in as admin; the first password is in var\/initial-admin-password$/);
      const password = readFileSync(join(cwd, 'var', 'initial-admin-password'), 'utf8').trim();
      const login = await fetch(`http://${api}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'admin', password, token: true }) });
      expect(login.status).to.equal(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.on('exit', r)));
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
