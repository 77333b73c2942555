import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import sqlite3 from 'sqlite3';
import { BIN, TestDaemon } from './support/daemon.js';
import { foreignWords } from './support/i18n.js';
import { addDevice, addUser, assign, ciscoBoot, prov } from './support/provisioning.js';

/** pbxctl as an admin runs it, in the given locale. */
function pbxctl(d: TestDaemon, args: string[], lang: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN.pbxctl, ...args, '--socket', d.socketPath], { env: { PATH: process.env.PATH, LANG: lang } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

/**
 * What the daemon itself says (job results, audit entries, provisioning
 * outcomes and alerts) reaches a German admin in German only: pbxctl words the
 * codes and values the API sends, from the daemon's one catalogue.
 */
describe('daemon texts in pbxctl: one language at a time', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
    await d.installLicense({ edition: 'Enterprise', quantities: { users: 20, 'devices.cisco': 1 } });
  });
  after(async () => d.dispose());

  it('a job, an audit entry, provisioning outcomes and an alert: German words, no English of those texts', async () => {
    // Provisioning: an unknown phone is recorded; assigned, it is served and takes the one license; a second one waits.
    await ciscoBoot(d, '00562b0436a1');
    await addUser(d, 'anna', 'Anna', 'Berg');
    await addUser(d, 'bert', 'Bert', 'Hahn');
    await assign(d, '00562b0436a1', 'anna');
    await ciscoBoot(d, '00562b0436a1');
    await addDevice(d, '00562b0436b2', 'cisco', 'CP-8845');
    await assign(d, '00562b0436b2', 'bert');
    await ciscoBoot(d, '00562b0436b2');
    // An alert: a browser asks for a phone's configuration.
    expect((await prov(d, '/SEP00562B0436A1.cnf.xml', { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0' })).status).to.equal(403);

    const de = {
      backup: await pbxctl(d, ['jobs', 'run', 'backup'], 'de_DE.UTF-8'),
      expiry: await pbxctl(d, ['jobs', 'run', 'expiryWatch'], 'de_DE.UTF-8'),
      jobs: await pbxctl(d, ['jobs'], 'de_DE.UTF-8'),
      audit: await pbxctl(d, ['audit', '--limit', '100'], 'de_DE.UTF-8'),
      events: await pbxctl(d, ['devices', 'events'], 'de_DE.UTF-8'),
      alerts: await pbxctl(d, ['provisioning', 'alerts'], 'de_DE.UTF-8'),
    };
    for (const [what, r] of Object.entries(de)) {
      expect(r.code, `${what}:\n${r.out}`).to.equal(0);
      expect(foreignWords(r.out, 'de'), `${what}:\n${r.out}`).to.deep.equal([]);
    }
    expect(de.backup.out).to.match(/^backup: ok — Sicherung "[^"]+" \(\d+ Bytes\)/);
    expect(de.expiry.out).to.contain('Modus "licensed"');
    expect(de.jobs.out).to.contain('Sicherung "');
    expect(de.audit.out).to.contain('Benutzer angelegt').and.contain('Gerät zugewiesen').and.contain('Provisionierungsanfrage abgewiesen').and.contain('Ein Browser hat die Datei');
    expect(de.events.out)
      .to.contain('als Gerät ohne Benutzer erfasst')
      .and.contain('Konfiguration ausgeliefert; Lizenz "devices.cisco" belegt')
      .and.contain('wartet auf eine Lizenz "devices.cisco" (1 von 1 belegt)')
      .and.contain('Zurückgewiesen');
    expect(de.alerts.out).to.contain('verdächtig: Ein Browser hat die Datei "config" von "00562b0436a1" angefordert');

    // None of the English those texts have (as the API sends them for scripts) is in the German output.
    const english = new Set<string>();
    for (const e of (await d.request('GET', '/api/v1/provisioning/events?limit=100')).json.events) english.add(e.detail);
    for (const a of (await d.request('GET', '/api/v1/provisioning/alerts')).json.alerts) english.add(a.detail);
    for (const j of (await d.request('GET', '/api/v1/jobs')).json.jobs) if (j.lastRun) english.add(j.lastRun.result);
    for (const e of (await d.request('GET', '/api/v1/audit?limit=100')).json.entries) for (const t of Object.values(e.text) as Array<{ en: string; de: string }>) if (t.en !== t.de) english.add(t.en);
    english.delete('');
    expect(english.size).to.be.greaterThan(10);
    const all = Object.values(de).map((r) => r.out).join('\n');
    for (const en of english) expect(all, en).to.not.contain(en);

    // Under an English locale the same commands print the English texts.
    const en = await pbxctl(d, ['devices', 'events'], 'C');
    expect(en.out).to.contain('configuration served; took a devices.cisco license').and.contain('recorded as unassigned');
    expect(foreignWords(en.out, 'en'), en.out).to.deep.equal([]);
  });

  it('a tampered audit log is reported in German', async () => {
    await new Promise<void>((resolve, reject) => {
      const db = new sqlite3.Database(join(d.dataDir, 'pbxd.db'), (e) => {
        if (e) return reject(e);
        db.exec("UPDATE audit SET actor = 'someone-else' WHERE action = 'user.register'", (err) => (db.close(), err ? reject(err) : resolve()));
      });
    });
    const de = await pbxctl(d, ['audit', 'verify'], 'de_DE.UTF-8');
    expect(de.code).to.equal(2);
    expect(de.out).to.match(/^PRÜFPROTOKOLL MANIPULIERT: Eintrag \d+ wurde verändert$/m);
    expect(foreignWords(de.out, 'de'), de.out).to.deep.equal([]);
  });
});
