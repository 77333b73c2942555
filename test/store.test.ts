import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../daemon/store/store.js';
import { AuditLog } from '../daemon/core/audit.js';
import { EventBus } from '../daemon/kernel/events.js';
import { OffsetClock } from '../daemon/kernel/clock.js';
import { silentLogger } from '../daemon/kernel/log.js';
import { queryDb } from './support/reliability.js';

/**
 * Writes waiting together are committed as one group. A write that is refused
 * (before or after it changed something) must leave no trace, its neighbours
 * in the group must land whole, and the audit chain must stay verifiable.
 */
describe('store: writes committed together', function () {
  let dir: string;
  let store: Store;
  let audit: AuditLog;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pbxd-store-'));
    store = await Store.open(join(dir, 'pbxd.db'), silentLogger);
    audit = new AuditLog(store, new OffsetClock(), new EventBus());
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const addTenant = (name: string) =>
    store.write(async (tx) => {
      await tx.run('INSERT INTO tenants (name, seats, created_at) VALUES (?, 0, ?)', [name, '2026-11-26']);
      await audit.append(tx, 'test', 'tenant.add', name);
    });
  const refusedAfterChanges = (name: string) =>
    store.write(async (tx) => {
      await tx.run('INSERT INTO tenants (name, seats, created_at) VALUES (?, 0, ?)', [name, '2026-11-26']);
      await audit.append(tx, 'test', 'tenant.add', name);
      throw new Error(`${name} refused after its changes`);
    });
  const refusedAfterReading = (name: string) =>
    store.write(async (tx) => {
      await tx.get('SELECT COUNT(*) FROM tenants');
      throw new Error(`${name} refused after reading`);
    });
  const failingOnSecondChange = (name: string) =>
    store.write(async (tx) => {
      await tx.run('INSERT INTO tenants (name, seats, created_at) VALUES (?, 0, ?)', [name, '2026-11-26']);
      await audit.append(tx, 'test', 'tenant.add', name);
      await tx.run('INSERT INTO tenants (name, seats, created_at) VALUES (?, 0, ?)', ['a', '2026-11-26']); // UNIQUE: 'a' exists
    });

  it('lands every write of a group but the refused ones, whatever point they were refused at', async () => {
    await addTenant('a');
    const outcomes = await Promise.allSettled([
      addTenant('b'),
      refusedAfterChanges('x1'),
      addTenant('c'),
      refusedAfterReading('x2'),
      failingOnSecondChange('x3'),
      addTenant('d'),
      refusedAfterChanges('x4'),
    ]);
    expect(outcomes.map((o) => o.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'rejected', 'fulfilled', 'rejected']);
    expect(String((outcomes[4] as PromiseRejectedResult).reason)).to.match(/UNIQUE/);

    const tenants = await queryDb<{ name: string }>(dir, 'SELECT name FROM tenants ORDER BY name');
    expect(tenants.map((t) => t.name)).to.deep.equal(['a', 'b', 'c', 'd']);
    const rows = await audit.list();
    expect(rows.map((r) => r.subject).reverse()).to.deep.equal(['a', 'b', 'c', 'd']);
    expect(await audit.verify()).to.deep.equal({ ok: true, rows: 4 });
  });

  it('rolls back a write refused alone (no neighbours, no savepoint) whole', async () => {
    await addTenant('a');
    for (const refused of [refusedAfterChanges, failingOnSecondChange, refusedAfterReading]) {
      const error = await refused('solo').then(() => null, (e: unknown) => e);
      expect(error, refused.name).to.be.an('error');
    }
    await addTenant('b');
    expect((await queryDb<{ name: string }>(dir, 'SELECT name FROM tenants ORDER BY name')).map((t) => t.name)).to.deep.equal(['a', 'b']);
    expect(await audit.verify()).to.deep.equal({ ok: true, rows: 2 });
  });

  it('keeps the audit chain whole across groups after a rolled-back entry', async () => {
    await Promise.allSettled([addTenant('a'), refusedAfterChanges('x')]);
    // The next group starts from the head the refused write did not leave behind.
    await Promise.all([addTenant('b'), addTenant('c')]);
    expect(await audit.verify()).to.deep.equal({ ok: true, rows: 3 });
    const [head] = await queryDb<{ value: string }>(dir, "SELECT value FROM meta WHERE key = 'audit_head'");
    const [last] = await audit.list({ limit: 1 });
    expect(head!.value).to.equal(`${last!.id}:${last!.hash}`);
  });
});
