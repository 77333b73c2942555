import { expect } from 'chai';
import { io } from 'socket.io-client';
import net from 'node:net';
import { ADMIN_PASSWORD, TestDaemon } from './support/daemon.js';
import { requestFrom } from './support/admin-plane.js';

describe('strict input on the admin plane', function () {
  this.timeout(60_000);
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start();
  });
  after(async () => d.dispose());

  const login = (contentType: string, body = JSON.stringify({ name: 'admin', password: ADMIN_PASSWORD })) =>
    requestFrom(`${d.apiUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': contentType }, body });

  it('refuses a login that is not application/json with 415, as a cross-site form would send it', async () => {
    for (const type of ['text/plain', 'text/plain; x=json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; x=1', 'application/json; charset=utf-16', 'application/jsonx']) {
      const r = await login(type);
      expect(r.status, type).to.equal(415);
      expect(r.json.error.code).to.equal('REQ_UNSUPPORTED_MEDIA_TYPE');
      expect(r.headers['set-cookie'], 'no session').to.equal(undefined);
    }
    expect((await login('application/json; charset=UTF-8')).status).to.equal(200);
    expect((await login('application/json')).status).to.equal(200);
  });

  it('refuses JSON routes with another body type and changes nothing; license files and CSV keep their types', async () => {
    const token = await d.adminToken();
    const r = await requestFrom(`${d.apiUrl}/api/v1/tenants/acme`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body: '{"seats":5}' });
    expect(r.status).to.equal(415);
    expect((await d.request('GET', '/api/v1/tenants')).json.tenants ?? []).to.deep.equal([]);
    const csv = await d.request('POST', '/api/v1/users/import', { raw: 'userName\nalice\n', contentType: 'text/csv' });
    expect(csv.status, csv.text).to.not.equal(415);
    const lic = await d.request('POST', '/api/v1/license/stage', { raw: d.license() });
    expect(lic.status, lic.text).to.equal(201);
  });

  it('answers only to its own host names (421 otherwise), also for socket.io', async () => {
    const foreign = await requestFrom(`${d.apiUrl}/api/v1/auth/login`, { method: 'POST', headers: { host: 'rebind.evil.example', 'content-type': 'application/json' }, body: JSON.stringify({ name: 'admin', password: ADMIN_PASSWORD }) });
    expect(foreign.status).to.equal(421);
    expect(foreign.json.error.code).to.equal('REQ_HOST_UNKNOWN');
    expect((await requestFrom(`${d.apiUrl}/`, { headers: { host: 'rebind.evil.example' } })).status).to.equal(421);
    expect((await requestFrom(`${d.apiUrl}/socket.io/?EIO=4&transport=polling`, { headers: { host: 'rebind.evil.example' } })).status).to.equal(421);
    for (const host of [`localhost:${d.apiUrl.split(':').pop()}`, '127.0.0.1', 'LOCALHOST']) expect((await requestFrom(`${d.apiUrl}/healthz`, { headers: { host } })).status, host).to.equal(200);

    // A websocket upgrade under a foreign name is refused before socket.io sees it, even with a valid token.
    const connect = (host: string) => {
      const socket = io(d.apiUrl, { transports: ['websocket'], extraHeaders: { host }, auth: { token }, reconnection: false, forceNew: true, timeout: 5000 });
      return new Promise<string>((resolve) => {
        socket.on('connect', () => resolve('connected'));
        socket.on('connect_error', (e) => resolve(`refused: ${e.message}`));
      }).finally(() => socket.close());
    };
    const token = await d.adminToken();
    expect(await connect(`127.0.0.1:${d.apiUrl.split(':').pop()}`)).to.equal('connected');
    expect(await connect('rebind.evil.example')).to.match(/^refused/);
  });

  it('leaves desktop clients and apps (/ws/client) to reach the appliance by any name: they carry no browser cookie', async () => {
    const [host, port] = d.listeners.api!.split(':');
    const raw = net.connect(Number(port), host);
    const head = await new Promise<string>((resolve) => {
      let got = '';
      raw.on('data', (b) => {
        got += b.toString();
        if (got.includes('\r\n\r\n')) resolve(got.split('\r\n')[0]!);
      });
      raw.write('GET /ws/client HTTP/1.1\r\nHost: pbx.customer.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    });
    raw.destroy();
    expect(head).to.equal('HTTP/1.1 101 Switching Protocols');
  });
});
