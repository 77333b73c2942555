import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import { TestDaemon } from './support/daemon.js';
import { attendantBody, RESOURCES_LICENSE } from './support/resources.js';

describe('auto attendant switches reach the web UI live', function () {
  let d: TestDaemon;
  let socket: Socket | null = null;
  before(async () => {
    d = await TestDaemon.start();
    await d.installLicense(RESOURCES_LICENSE);
  });
  after(async () => {
    socket?.close();
    await d.dispose();
  });

  it('sends autoAttendant.switched to a socket authenticated with an admin token', async () => {
    // Wednesday 2026-12-02 06:00 Berlin: closed. Create it then, connect, move to 11:00: it opens (at 08:00 = 07:00Z).
    await d.setClock(new Date('2026-12-02T05:00:00Z'));
    const created = await d.request('POST', '/api/v1/auto-attendants', { body: attendantBody('Zentrale', ['+495311230']) });
    expect(created.json.state).to.equal('closed');

    socket = io(d.apiUrl, { path: '/socket.io', auth: { token: await d.adminToken() }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket!.once('connect', () => resolve());
      socket!.once('connect_error', reject);
    });
    const switched = new Promise<any>((resolve, reject) => {
      socket!.once('autoAttendant.switched', resolve);
      setTimeout(() => reject(new Error('no autoAttendant.switched within 5 s')), 5000);
    });
    await d.setClock(new Date('2026-12-02T10:00:00Z'));
    // The adapter batches: one message per event name with a list of {at, data}.
    const payload = await switched;
    const events = (Array.isArray(payload) ? payload : [payload]).map((e: { data?: unknown }) => e.data ?? e);
    expect(events).to.deep.include({ name: 'Zentrale', state: 'open', at: '2026-12-02T07:00:00.000Z' });
  });
});
