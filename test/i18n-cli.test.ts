import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { cliTexts, HELP_DE } from '../daemon/cli/messages.js';
import { BIN, TestDaemon } from './support/daemon.js';
import { foreignWords } from './support/i18n.js';

/** pbxctl under a German locale speaks German only: its own texts, tables, help and the daemon's refusals. */
function pbxctl(d: TestDaemon, args: string[], lang: string, input?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = execFile(process.execPath, [BIN.pbxctl, ...args, '--socket', d.socketPath], { env: { PATH: process.env.PATH, LANG: lang } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
    p.stdin!.end(input ?? '');
  });
}

describe('pbxctl in German', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.installLicense({ edition: 'Enterprise', quantities: { users: 20, 'devices.cisco': 5, autoattendants: 2, trunkchannels: 10 }, perUser: { clientbundle: 5 } });
  });
  after(async () => d.dispose());

  it('has a German text for every message and every command, none of them mixed', () => {
    const sample = (n: number) => Array.from({ length: n }, (_, i) => (i % 2 ? 7 : 'X7'));
    for (const [key, fn] of Object.entries(cliTexts)) {
      const t = (fn as (...a: unknown[]) => { en: string; de: string })(...sample(fn.length));
      expect(t.de, key).to.be.a('string').and.not.equal('');
      expect(foreignWords(t.de, 'de'), `${key}.de: ${t.de}`).to.deep.equal([]);
      expect(foreignWords(t.en, 'en'), `${key}.en: ${t.en}`).to.deep.equal([]);
    }
    for (const [words, text] of Object.entries(HELP_DE)) expect(foreignWords(text, 'de'), `help ${words}: ${text}`).to.deep.equal([]);
  });

  it('prints every command German under LANG=de_DE, English under LANG=C', async () => {
    const csv = join(d.dataDir, 'users.csv');
    writeFileSync(csv, 'userName,firstName,lastName\nhanna,Hanna,Hoff\n');
    const aa = join(d.dataDir, 'aa.json');
    writeFileSync(aa, JSON.stringify({ name: 'Zentrale', numbers: ['200'], schedule: { timeZone: 'Europe/Berlin', weekly: { mon: [{ from: '08:00', to: '17:00' }] }, holidays: [] }, inHours: { kind: 'forward', target: '201' }, outOfHours: { kind: 'forward', target: '202' } }));
    // A phone asks, so the device table has a row.
    await fetch(`http://${d.listeners.provisioning_http}/SEP00562B0436A1.cnf.xml`);
    const lines: string[][] = [
      ['help'],
      ['status'],
      ['users', 'add', 'anna', '--first', 'Anna', '--last', 'Berg'],
      ['users', 'import', csv],
      ['users', 'list'],
      ['users', 'approve', '--all'],
      ['tenants', 'set', 'Acme', '3'],
      ['tenants', 'list'],
      ['licenses', 'assign', 'anna', 'clientbundle'],
      ['licenses', 'list'],
      ['devices', 'list'],
      ['devices', 'assign', '00562B0436A1', 'anna'],
      ['devices', 'block', '00562B0436A1'],
      ['devices', 'unblock', '00562B0436A1'],
      ['devices', 'release', '00562B0436A1'],
      ['aa', 'add', '--file', aa],
      ['aa', 'list'],
      ['aa', 'delete', 'Zentrale'],
      ['trunks', 'list'],
      ['sessions', 'list'],
      ['users', 'tokens', 'anna'],
      ['backup', 'now'],
      ['audit', 'verify'],
      ['admin', 'list'],
      ['users', 'add', 'anna'],
      ['users', 'delete'],
      ['license', 'install', '/no/such/file'],
      ['users', 'list', '--q'],
      ['no', 'such', 'command'],
    ];
    for (const args of lines) {
      const de = await pbxctl(d, args, 'de_DE.UTF-8');
      expect(foreignWords(de.out, 'de'), `pbxctl ${args.join(' ')}:\n${de.out}`).to.deep.equal([]);
    }
    const en = await pbxctl(d, ['users', 'list'], 'C');
    expect(en.out).to.contain('first name').and.contain('users');
    expect(foreignWords(en.out, 'en')).to.deep.equal([]);
    const deList = await pbxctl(d, ['users', 'list'], 'de_DE.UTF-8');
    expect(deList.out).to.contain('Vorname').and.contain('Benutzern');
  });
});
