import net from 'node:net';
import tls from 'node:tls';
import { int, pick, type Random } from './reliability.js';

/**
 * Hostile HTTP for the fuzz tests: requests are written byte by byte on a raw
 * socket, because node's own client refuses to send the broken request lines,
 * header bytes and lengths a hostile client would.
 */

export interface FuzzReply {
  /** The status of the answer, or null when the server closed without one (acceptable for unparsable requests). */
  status: number | null;
  head: string;
}

/** Send `bytes` to host:port and read until the server closes (or `timeoutMs`). */
export function rawExchange(address: string, bytes: Buffer, opts: { endAfterWrite?: boolean; timeoutMs?: number; tls?: boolean } = {}): Promise<FuzzReply> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    // Over TLS the phone's view of the certificate does not matter here: the bytes after the handshake do.
    const socket = opts.tls ? tls.connect({ host, port, rejectUnauthorized: false, servername: 'localhost' }) : net.connect({ host, port });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const head = Buffer.concat(chunks).subarray(0, 400).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({ status: m ? Number(m[1]) : null, head: head.split('\r\n')[0] ?? '' });
    };
    const timer = setTimeout(finish, opts.timeoutMs ?? 5000);
    socket.on('data', (c) => {
      chunks.push(c);
      // The status line and headers are all we judge (HEAD answers and keep-alive send no end).
      if (Buffer.concat(chunks).includes('\r\n\r\n')) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(bytes, () => {
      if (opts.endAfterWrite) socket.end();
    });
  });
}

/** Strings an admin would never type; each holds at least one character no identifier allows. */
export const HOSTILE_STRINGS = [
  '',
  ' ',
  "' OR '1'='1' --",
  '"; DROP TABLE users; --',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '\u0000',
  'a\u0000b c',
  '\u202eevil txt',
  '%s%s%s%n',
  '${jndi:ldap://x}',
  '__proto__ ',
  'constructor prototype',
  'ä ö ü ß 漢字 🙂',
  '\ud800 lone surrogate',
  'x '.repeat(5000),
  '\r\nX-Injected: 1',
  'NaN ',
  '-1 ',
  '1e309 ',
];

/** Numbers no handler should take as a count, id or size. */
export const HOSTILE_NUMBERS = [-1, -0.5, 1.5, 2 ** 53 + 1, 1e21, -1e21, Number.MAX_VALUE, 1_000_001, 3.14159];

/** Field names of the real API, so hostile values reach the handlers' own checks. */
export const FIELDS = ['userName', 'firstName', 'lastName', 'tenant', 'extension', 'users', 'userNames', 'all', 'changes', 'code', 'assigned', 'seats', 'license', 'stageId', 'plan', 'kind', 'id', 'name', 'password', 'token', 'label', 'admin', 'now', 'offsetMs', 'schedule', 'numbers', 'inHours', 'outOfHours', 'registrar', 'username', 'channels', 'at', 'requestKey', '__proto__', 'constructor'];

export function hostileValue(rnd: Random, depth = 0): unknown {
  const r = rnd();
  if (depth > 3 || r < 0.35) return pick(rnd, HOSTILE_STRINGS);
  if (r < 0.5) return pick(rnd, HOSTILE_NUMBERS);
  if (r < 0.6) return pick(rnd, [null, true, false, {}, []]);
  if (r < 0.8) return Array.from({ length: int(rnd, 0, 4) }, () => hostileValue(rnd, depth + 1));
  return hostileObject(rnd, depth + 1);
}

export function hostileObject(rnd: Random, depth = 0): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = int(rnd, 1, 4); i > 0; i--) o[rnd() < 0.85 ? pick(rnd, FIELDS) : pick(rnd, HOSTILE_STRINGS)] = hostileValue(rnd, depth);
  return o;
}

/** A body that no handler may accept: broken, nested, mis-encoded, oversized or of the wrong shape. */
export function hostileBody(rnd: Random, foreignLicense: string): { body: Buffer; contentType: string | null } {
  const ct = () =>
    pick(rnd, ['application/json', 'application/json', 'application/json; charset=utf-16', 'application/json; charset=koi8-r', 'text/csv', 'text/plain', 'application/octet-stream', 'application/x-pem-file', 'multipart/form-data; boundary=xx', 'application/x-www-form-urlencoded', 'text/html', '*/*', '', 'json']);
  switch (int(rnd, 0, 9)) {
    case 0:
      return { body: Buffer.from(pick(rnd, ['{"userName":', '{"a":1,}', "{'a':1}", '[', '{"changes":[{"userName":"x","code":', 'nul', '"\\ud800"', '{"users":[{"userName":"a"}]', '{"x":1}garbage', '\ufeff{}', '{"a":"\\u00"}'])), contentType: 'application/json' };
    case 1: {
      const n = int(rnd, 1000, 60_000);
      const open = rnd() < 0.5 ? '[' : '{"a":';
      const close = open === '[' ? ']' : '}';
      return { body: Buffer.from(open.repeat(n) + '1' + close.repeat(n)), contentType: 'application/json' };
    }
    case 2:
      return { body: Buffer.concat([Buffer.from('{"userName":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0xed, 0xa0, 0x80]), Buffer.from('"}')]), contentType: pick(rnd, ['application/json', 'text/csv', 'text/plain']) };
    case 3:
    case 4:
      return { body: Buffer.from(JSON.stringify(rnd() < 0.8 ? hostileObject(rnd) : hostileValue(rnd))), contentType: ct() };
    case 5: {
      const header = pick(rnd, ['userName,firstName', 'sAMAccountName', 'nope,columns', '"unbalanced,quote', '', 'userName']);
      const rows = Array.from({ length: int(rnd, 0, 30) }, () => Array.from({ length: int(rnd, 1, 6) }, () => pick(rnd, ['"a""b', '"', ' ', 'x y', '\r', 'a,b', '"open', HOSTILE_STRINGS[int(rnd, 0, 8)]!])).join(','));
      return { body: Buffer.from([header, ...rows].join(pick(rnd, ['\n', '\r\n', '\r']))), contentType: pick(rnd, ['text/csv', 'text/plain']) };
    }
    case 6: {
      // A license for another appliance, damaged at a few places: at best it fails on the system id.
      const bytes = Buffer.from(foreignLicense);
      for (let i = int(rnd, 0, 5); i > 0; i--) bytes[int(rnd, 0, bytes.length - 1)] = int(rnd, 0, 255);
      const cut = rnd() < 0.3 ? bytes.subarray(0, int(rnd, 0, bytes.length)) : bytes;
      return { body: cut, contentType: pick(rnd, ['text/plain', 'application/octet-stream', 'application/x-pem-file', 'application/json']) };
    }
    case 7:
      return { body: Buffer.from(`-----BEGIN PBXD LICENSE-----\n${Buffer.from(JSON.stringify(hostileObject(rnd))).toString('base64')}\n-----END PBXD LICENSE-----\n`), contentType: 'text/plain' };
    case 8:
      return rnd() < 0.3 ? { body: Buffer.alloc(int(rnd, 1_100_000, 2_500_000), 0x61), contentType: ct() } : { body: Buffer.alloc(0), contentType: ct() };
    default:
      return { body: Buffer.from(Array.from({ length: int(rnd, 1, 2000) }, () => int(rnd, 0, 255))), contentType: ct() };
  }
}

const SEGMENTS = ['%zz', '%00', '..%2f..%2fetc', '%2e%2e', 'a'.repeat(3000), '%F0%28%8C%BC', '%C3%28', '<x>', "'", '%27%20OR%201=1', '~', '%20', 'null', 'undefined', '__proto__', 'constructor', '%E2%80%AE', '0', '-1', '9999999999999999999999', ';', '%0d%0aX:1', '.', ''];
const QUERIES = ['', '?limit=-1', '?limit=abc', '?limit=1&limit=2', '?offset=1e400', '?q=%zz', '?q[$ne]=1', '?status=other', '?stageId=0', '?stageId[]=1', '?before=-5', '?q=' + 'x'.repeat(5000), '?__proto__[a]=1', '?tenant=%00', '?a=%E0%A4%A'];

/** A path on the real API (or near it), with hostile segments and queries. */
export function hostilePath(rnd: Random, templates: readonly string[]): string {
  const r = rnd();
  let path: string;
  if (r < 0.75) path = pick(rnd, templates).replace(/:[a-z]+/gi, () => pick(rnd, SEGMENTS));
  else if (r < 0.9) path = '/api/v1/' + Array.from({ length: int(rnd, 1, 5) }, () => pick(rnd, SEGMENTS)).join('/');
  else path = pick(rnd, ['*', '//api//v1//users', '/api/v1/../../etc/passwd', 'http://evil/api/v1/status', '/api/v1/users\\..\\x', '/%', '/api/v1/users#frag', '/' + 'x/'.repeat(2000)]);
  return path + (rnd() < 0.3 ? pick(rnd, QUERIES) : '');
}

export const METHODS = ['GET', 'GET', 'POST', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'FOO', 'get', 'TRACE', 'PROPFIND', 'M-SEARCH'];

/** A full request: line, headers (some huge, some broken), body; plus whether to half-close after writing. */
export function hostileRequest(
  rnd: Random,
  o: { templates: readonly string[]; auth: string | null; foreignLicense: string; hostHeader: string; xml?: boolean },
): { bytes: Buffer; endAfterWrite: boolean; describe: string } {
  const method = pick(rnd, METHODS);
  const path = hostilePath(rnd, o.templates);
  const { body, contentType } =
    o.xml && rnd() < 0.5 ? { body: hostileXml(rnd), contentType: pick(rnd, ['text/xml; charset=utf-8', 'text/xml', 'application/xml', 'text/plain', 'text/xml; charset=utf-16']) } : hostileBody(rnd, o.foreignLicense);
  const headers: string[] = [`Host: ${o.hostHeader}`];
  if (o.xml && rnd() < 0.6)
    headers.push(`User-Agent: ${pick(rnd, ['OpenStage', 'Cisco-CP-8841-3PCC/11.3.7_1234 (zz)', 'Yealink W70B 146.85.0.20 zz:zz', 'Gigaset N870 IP PRO/83;', 'Snom-M900/', 'x'.repeat(8000), '', '\u00ff\u00fe'])}`);
  if (o.auth) headers.push(`Authorization: Bearer ${o.auth}`);
  else if (rnd() < 0.5) headers.push(pick(rnd, ['Authorization: Bearer x', 'Authorization: Basic YWRtaW46YWRtaW4=', 'Cookie: pbxd_session=abc; csrf=1', 'Authorization: Bearer ' + 'A'.repeat(5000), 'Authorization:']));
  if (contentType !== null && rnd() < 0.95) headers.push(`Content-Type: ${contentType}`);
  let endAfterWrite = false;
  let framing = 'length';
  const x = rnd();
  if (x < 0.05) headers.push('Content-Encoding: ' + pick(rnd, ['gzip', 'deflate', 'br', 'x-unknown', 'gzip, gzip'])); // a body that is not what it says
  else if (x < 0.08) headers.push('X-Huge: ' + 'h'.repeat(int(rnd, 9000, 70_000)));
  else if (x < 0.1) for (let i = 0; i < 300; i++) headers.push(`X-Many-${i}: ${i}`);
  else if (x < 0.12) headers.push(`X-Bad: a\u0001b`);
  else if (x < 0.14) headers.push('Origin: http://evil.example', 'X-CSRF-Token: nope');
  else if (x < 0.17) framing = 'chunked-broken';
  else if (x < 0.2) framing = 'short'; // Content-Length larger than what is sent, then the client hangs up
  else if (x < 0.22) framing = 'both';
  // Upgrades to paths no WebSocket server serves are dropped after socket.io's 1 s destroyUpgradeTimeout: few, to stay fast.
  else if (x < 0.24)
    headers.push('Connection: Upgrade', `Upgrade: ${pick(rnd, ['websocket', 'WebSocket', 'h2c', 'x'])}`, `Sec-WebSocket-Version: ${pick(rnd, ['13', '8', '99', 'x'])}`, `Sec-WebSocket-Key: ${pick(rnd, ['dGhlIHNhbXBsZSBub25jZQ==', 'short', '', 'x'.repeat(300)])}`);
  if (framing === 'chunked-broken') headers.push('Transfer-Encoding: chunked');
  else if (framing === 'both') headers.push('Transfer-Encoding: chunked', `Content-Length: ${body.length}`);
  else if (framing === 'short') (headers.push(`Content-Length: ${body.length + 100}`), (endAfterWrite = true));
  else headers.push(`Content-Length: ${body.length}`);
  const payload = framing === 'chunked-broken' ? Buffer.concat([Buffer.from(pick(rnd, ['zz\r\n', '5\r\nab', 'ffffffffffffffff\r\n', '-1\r\n', '3;x\r\nabc\r\n0\r\n'])), body.subarray(0, 100)]) : body;
  if (framing === 'chunked-broken') endAfterWrite = true;
  const line = rnd() < 0.03 ? pick(rnd, [`${method} ${path}\r\n`, `${method}  ${path} HTTP/1.1\r\n`, `${method} ${path} HTTP/9.9\r\n`, `\x00\x01\x02 / HTTP/1.1\r\n`]) : `${method} ${path} HTTP/1.1\r\n`;
  const head = Buffer.from(line + headers.join('\r\n') + '\r\n\r\n', 'latin1');
  return { bytes: Buffer.concat([head, payload]), endAfterWrite, describe: `${method} ${path.slice(0, 80)} ${contentType ?? '-'} ${body.length}B ${framing}` };
}

/** XML as a hostile phone (or someone posing as one) sends it to the provisioning and WPI ports. */
export function hostileXml(rnd: Random): Buffer {
  const junkMac = pick(rnd, ['zz', '', '00:11', '0'.repeat(40), '<x/>', '&amp;', '001122334455zz']);
  const body = pick(rnd, [
    () => '<?xml version="1.0"?><WorkpointMessage><Message nonce="',
    () => '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><WorkpointMessage>&lol2;</WorkpointMessage>',
    () => '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><WorkpointMessage><Message>&xxe;</Message></WorkpointMessage>',
    () => '<a>'.repeat(int(rnd, 1000, 20_000)) + '</a>'.repeat(int(rnd, 0, 1000)),
    () => `<WorkpointMessage xmlns="http://www.siemens.com/DLS"><Message nonce="${pick(rnd, HOSTILE_STRINGS)}" maxItems="-1"><ReasonForContact>${pick(rnd, ['start-up', 'reply-to', 'solicited', 'x'.repeat(5000), ''])}</ReasonForContact><ItemList><Item name="mac-addr">${junkMac}</Item><Item name="device-type">${pick(rnd, HOSTILE_STRINGS).replace(/[<&]/g, '')}</Item>${'<Item name="x">y</Item>'.repeat(int(rnd, 0, 3000))}</ItemList></Message></WorkpointMessage>`,
    () => '<WorkpointMessage><Message><ItemList><Item name="mac-addr">' + junkMac + '</Item></ItemList></Message>',
    () => '\ufeff<?xml version="1.0" encoding="UTF-16"?><WorkpointMessage/>',
    () => '<![CDATA[' + 'x'.repeat(int(rnd, 0, 100_000)),
  ])();
  return rnd() < 0.15 ? Buffer.concat([Buffer.from(body), Buffer.from([0xff, 0xfe, 0x00, 0xc3])]) : Buffer.from(body);
}
