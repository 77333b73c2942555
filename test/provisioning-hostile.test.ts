import { expect } from 'chai';
import net from 'node:net';
import { TestDaemon } from './support/daemon.js';
import { addUser, assign, devices, prov, sipPassword, unifyItems, wpi, workpoint } from './support/provisioning.js';

const KNOWN = '00562B0436D4';
const UNIFY = '001AE8000001';

/** Raw bytes to a port: for requests no well-behaved client library would send. */
function raw(address: string, bytes: string, endAfter = true): Promise<string> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(address.slice(i + 1)), address.slice(0, i));
    let out = '';
    s.on('data', (c) => (out += c.toString()));
    s.on('close', () => resolve(out));
    s.on('error', (e) => (out ? resolve(out) : reject(e)));
    s.write(bytes);
    if (endAfter) s.end();
  });
}

describe('provisioning: hostile input is refused and changes nothing', function () {
  let d: TestDaemon;
  let before_: string;
  before(async () => {
    d = await TestDaemon.start({ config: { provisioning: { host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0, missesPerMinute: 60, autoRecordPerSource: 3, maxBodyBytes: 8192 } } });
    await addUser(d, 'karl');
    await addUser(d, 'lena');
    await d.installLicense({ quantities: { users: 25, 'devices.cisco': 5, 'devices.unify': 5 } });
    await prov(d, `/SEP${KNOWN}.cnf.xml`);
    await assign(d, KNOWN, 'karl');
    await wpi(d, workpoint('01', 'start-up', unifyItems(UNIFY)));
    await assign(d, UNIFY, 'lena');
    before_ = JSON.stringify(await devices(d));
  });
  after(async () => d.dispose());

  const cases: Array<[string, string, number, string, Record<string, string>?, string?]> = [
    ['a MAC with non-hex digits', '/SEPZZZZZZZZZZZZ.cnf.xml', 400, 'PROV_BAD_MAC'],
    ['a MAC of 10 digits', '/SEP00562B0436.cnf.xml', 400, 'PROV_BAD_MAC'],
    ['a malformed MAC in a trust list name', '/ITLSEP00562B04.tlv', 400, 'PROV_BAD_MAC'],
    ['a malformed MAC in a User-Agent', `/${KNOWN}.xml`, 400, 'PROV_BAD_MAC', { 'user-agent': 'Cisco-CP-8841-3PCC/11.3.7 (00562b04361)' }],
    ['two different MACs in path and User-Agent', '/00562b043615.xml', 400, 'PROV_MAC_MISMATCH', { 'user-agent': 'Cisco-CP-8841-3PCC/11.3.7 (00562b043616)' }],
    ['plain ../', '/../etc/passwd', 400, 'PROV_BAD_PATH'],
    ['percent-encoded ../', '/%2e%2e/%2e%2e/etc/passwd', 400, 'PROV_BAD_PATH'],
    ['double-encoded ../', '/%252e%252e%252fetc%252fpasswd', 400, 'PROV_BAD_PATH'],
    ['an encoded backslash', '/..%5c..%5cwindows%5cwin.ini', 400, 'PROV_BAD_PATH'],
    ['an encoded slash inside a file name', `/SEP${KNOWN}%2f..%2f.cnf.xml`, 400, 'PROV_BAD_PATH'],
    ['overlong UTF-8 dots', '/%c0%ae%c0%ae/etc/passwd', 400, 'PROV_BAD_PATH'],
    ['a NUL byte', `/SEP${KNOWN}.cnf.xml%00.txt`, 400, 'PROV_BAD_PATH'],
    ['the root (no listing)', '/', 404, 'PROV_NOT_FOUND'],
    ['an unknown file', '/index.html', 404, 'PROV_NOT_FOUND'],
    ['a sub folder', '/tls/server.key', 404, 'PROV_NOT_FOUND'],
    ['the database file', '/pbxd.db', 404, 'PROV_NOT_FOUND'],
  ];
  for (const [what, path, status, code, headers] of cases) {
    it(`refuses ${what} with ${status} ${code}`, async () => {
      const r = await prov(d, path, headers ?? {});
      expect(r.status, r.text).to.equal(status);
      expect(r.headers['x-pbxd-refusal']).to.equal(code);
      expect(r.text).to.not.match(/<a href|Index of/i);
    });
  }

  it('refuses wrong methods with 405 and Allow', async () => {
    for (const m of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const r = await prov(d, `/SEP${KNOWN}.cnf.xml`, {}, m);
      expect(r.status, m).to.equal(405);
      expect(r.headers.allow).to.equal('GET, HEAD');
    }
    const g = await prov(d, '/DeploymentService/LoginService');
    expect(g.status).to.equal(405);
    expect(g.headers.allow).to.equal('POST');
  });

  it('answers HEAD without a body', async () => {
    const r = await prov(d, '/dialplan.xml', {}, 'HEAD');
    expect(r.status).to.equal(200);
    expect(r.text).to.equal('');
  });

  it('refuses WPI messages with a wrong content type with 415', async () => {
    const body = workpoint('AB', 'start-up', unifyItems(UNIFY));
    for (const type of ['application/json', 'application/x-www-form-urlencoded', '']) {
      const r = await wpi(d, body, { 'content-type': type });
      expect(r.status, type).to.equal(415);
      expect(r.headers['x-pbxd-refusal']).to.equal('PROV_CONTENT_TYPE');
    }
  });

  it('refuses a declared oversized body with 413 without reading it', async () => {
    const out = await raw(d.listeners.provisioning_http!, `POST /DeploymentService/LoginService HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 100000000\r\n\r\n<WorkpointMessage>`, false);
    expect(out).to.match(/^HTTP\/1\.1 413 /);
    expect(out).to.include('PROV_TOO_LARGE');
  });

  it('stops reading a chunked body at the limit with 413', async () => {
    const chunk = 'x'.repeat(4000);
    const bytes = `POST /DeploymentService/LoginService HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n` + `${(4000).toString(16)}\r\n${chunk}\r\n`.repeat(5) + '0\r\n\r\n';
    const out = await raw(d.listeners.provisioning_http!, bytes);
    expect(out).to.match(/^HTTP\/1\.1 413 /);
  });

  const xmlCases: Array<[string, string, string]> = [
    ['a DOCTYPE with entities (billion laughs)', `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><WorkpointMessage><Message nonce="AB"><ReasonForContact>&lol2;</ReasonForContact></Message></WorkpointMessage>`, 'PROV_XML_DOCTYPE'],
    ['an external entity', `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><WorkpointMessage><Message nonce="AB"><ReasonForContact>&xxe;</ReasonForContact></Message></WorkpointMessage>`, 'PROV_XML_DOCTYPE'],
    ['malformed XML', `<WorkpointMessage><Message nonce="AB"><ReasonForContact>start-up</Message>`, 'PROV_XML_MALFORMED'],
    ['a reply without a nonce', workpoint(null, 'reply-to', unifyItems(UNIFY), ' action="ReadAllItems" status="accepted"'), 'PROV_WPI_NONCE'],
    ['a reply to a nonce this server never issued', workpoint('0123456789ABCDEF', 'reply-to', unifyItems(UNIFY), ' action="ReadAllItems" status="accepted"'), 'PROV_WPI_NONCE'],
    ['a non-hex nonce', workpoint('XYZ"', 'start-up', unifyItems(UNIFY)).replace('XYZ"', 'xyz-1'), 'PROV_WPI_NONCE'],
    ['an injected nonce', workpoint('AB"><Action>WriteItems</Action', 'start-up', unifyItems(UNIFY)), 'PROV_XML_MALFORMED'],
    ['a malformed mac-addr', workpoint('AB', 'start-up', { ...unifyItems(UNIFY), 'mac-addr': '00:1a:e8:zz:00:01' }), 'PROV_BAD_MAC'],
    ['a message without a MAC', workpoint('AB', 'start-up', { 'device-type': 'OpenStage 60' }), 'PROV_WPI_INVALID'],
    ['another root element', `<DLSMessage><Message nonce="AB"><Action>CleanUp</Action></Message></DLSMessage>`, 'PROV_WPI_INVALID'],
  ];
  for (const [what, body, code] of xmlCases) {
    it(`refuses WPI with ${what} (${code})`, async () => {
      const r = await wpi(d, body);
      expect(r.status, r.text).to.equal(400);
      expect(r.headers['x-pbxd-refusal']).to.equal(code);
      expect(r.text).to.not.include('lollol');
    });
  }

  it('left the device table exactly as it was', async () => {
    expect(JSON.stringify(await devices(d))).to.equal(before_);
  });

  it('rate-limits misses per source, but never a known device behind the same address', async () => {
    const from = '127.0.0.5';
    let limited: any = null;
    for (let i = 0; i < 70 && !limited; i++) {
      const r = await prov(d, `/nothing-${i}.bin`, {}, 'GET', from);
      if (r.status === 429) limited = r;
    }
    expect(limited, 'a 429 after the limit').to.not.equal(null);
    expect(limited.headers['x-pbxd-refusal']).to.equal('PROV_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).to.be.within(1, 60);
    const known = await prov(d, `/SEP${KNOWN}.cnf.xml`, {}, 'GET', from);
    expect(known.status).to.equal(200);
    expect(known.text).to.include(await sipPassword(d, KNOWN));
    expect((await prov(d, '/nothing.bin', {}, 'GET', '127.0.0.1')).status, 'other sources are not limited').to.equal(404);
  });

  it('records at most the configured number of unknown devices from one source', async () => {
    const from = '127.0.0.6';
    for (let i = 0; i < 6; i++) await prov(d, `/SEP00562B04370${i}.cnf.xml`, {}, 'GET', from);
    const recorded = (await devices(d)).filter((x) => x.mac.startsWith('00562b04370'));
    expect(recorded).to.have.length(3);
    expect(recorded.every((x) => x.licenseState === 'unassigned')).to.equal(true);
  });
});

describe('provisioning: overload', function () {
  let d: TestDaemon;
  before(async () => {
    d = await TestDaemon.start({ config: { provisioning: { host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0, maxInFlight: 1 } } });
  });
  after(async () => d.dispose());

  it('answers 503 with Retry-After when too many requests are in progress, and serves again after', async () => {
    const addr = d.listeners.provisioning_http!;
    const i = addr.lastIndexOf(':');
    // One WPI message whose body never finishes holds the only slot.
    const slow = net.connect(Number(addr.slice(i + 1)), addr.slice(0, i));
    await new Promise((r) => slow.on('connect', r));
    slow.write('POST /DeploymentService/LoginService HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 500\r\n\r\n<Workpoint');
    await new Promise((r) => setTimeout(r, 100));
    const busy = await prov(d, '/dialplan.xml');
    expect(busy.status).to.equal(503);
    expect(busy.headers['retry-after']).to.equal('5');
    slow.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect((await prov(d, '/dialplan.xml')).status).to.equal(200);
  });
});
