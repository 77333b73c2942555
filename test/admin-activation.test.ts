import { expect } from 'chai';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, TestDaemon } from './support/daemon.js';

/** A stand-in activation server on 127.0.0.1 that answers every request with `answer` and counts requests. */
async function fakeServer(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => answer(req, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

describe('activation client: no redirects, https only, remote text quoted', function () {
  this.timeout(60_000);

  it('refuses a redirecting activation server without re-posting the request key elsewhere', async () => {
    const elsewhere = await fakeServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"none"}'));
    const redirecting = await fakeServer((_req, res) => res.writeHead(307, { location: `${elsewhere.url}/v1/request` }).end());
    const d = await TestDaemon.start({ config: { activation: { url: redirecting.url, timeoutMs: 2000 } } });
    try {
      const r = await d.request('POST', '/api/v1/license/request', { body: { requestKey: '1234567890' } });
      expect(r.status).to.equal(502);
      expect(r.json.error.code).to.equal('ACT_REDIRECTED');
      expect(r.json.error.message).to.contain('does not follow redirects');
      expect(redirecting.hits()).to.equal(1);
      // The answer above came after the client was done with the redirect: a follow would have happened by now.
      expect(elsewhere.hits(), 'nothing was posted to the redirect target').to.equal(0);
      expect((await d.status()).mode).to.equal('entry');
    } finally {
      await d.dispose();
      await redirecting.close();
      await elsewhere.close();
    }
  });

  it("shows the server's own text only as a quoted detail after pbxd's message", async () => {
    const hostile = await fakeServer((_req, res) =>
      res.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'Call 0900-SCAM now!\n<script>alert(1)</script>\u202e' + 'x'.repeat(500) } })),
    );
    const d = await TestDaemon.start({ config: { activation: { url: hostile.url, timeoutMs: 2000 } } });
    try {
      const r = await d.request('POST', '/api/v1/license/request', { body: { requestKey: '1234567890' } });
      expect(r.json.error.code).to.equal('ACT_REQUEST_KEY_REFUSED');
      const msg: string = r.json.error.message;
      expect(msg).to.match(/^The activation server refused the request key 1234567890 \(HTTP 409\)\. The server said: "Call 0900-SCAM now! <script>/);
      expect(msg).to.not.contain('\n').and.not.contain('\u202e');
      expect(msg.length).to.be.lessThan(320);
      expect(r.json.error.text.de).to.match(/^Der Aktivierungsserver hat den Anforderungsschlüssel 1234567890 abgelehnt \(HTTP 409\)\. Der Server meldete: "/);
    } finally {
      await d.dispose();
      await hostile.close();
    }
  });

  it('refuses an http:// activation server on another host at start (https only; plain http only on loopback)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pbxd-act-'));
    const file = join(dir, 'pbxd.json');
    writeFileSync(file, JSON.stringify({ dataDir: dir, activation: { url: 'http://activation.example.com' } }));
    const r = spawnSync(process.execPath, [BIN.pbxd, '--config', file], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).to.equal(78);
    expect(r.stderr).to.contain('activation.url: must be an https:// URL');
  });
});
