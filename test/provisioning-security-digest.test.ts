import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { TestDaemon } from './support/daemon.js';
import { derivedDigestPassword } from '../provisioning/security/digest.js';
import { addDevice, addUser, assign, keyInUrls, prov, sipPassword } from './support/provisioning.js';

/** HTTP digest with the site's provisioning credentials, on top of the key, as a Yealink base answers the challenge. */
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

function authorization(challenge: string, user: string, password: string, method: string, uri: string): string {
  const p = Object.fromEntries([...challenge.matchAll(/(\w+)="?([^",]+)"?/g)].map((m) => [m[1], m[2]]));
  const cnonce = 'a1b2c3d4';
  const nc = '00000001';
  const ha1 = md5(`${user}:${p.realm}:${password}`);
  const response = md5(`${ha1}:${p.nonce}:${nc}:${cnonce}:auth:${md5(`${method}:${uri}`)}`);
  return `Digest username="${user}", realm="${p.realm}", nonce="${p.nonce}", uri="${uri}", qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}", algorithm=MD5`;
}

describe('provisioning security: HTTP digest credentials', function () {
  this.timeout(30_000);
  let d: TestDaemon;
  after(async () => d?.dispose());

  it('challenges a phone without credentials, serves it with them, and refuses (with an alert) wrong ones', async () => {
    d = await TestDaemon.start({ config: { provisioning: { host: '127.0.0.1', httpPort: 0, httpsPort: 0, wpiPort: 0, requireKey: true, digest: true } } });
    await addUser(d, 'yuki', 'yuki', 'Test');
    const mac = '805ec0123b55';
    await addDevice(d, mac, 'yealink', 'W70B');
    await assign(d, mac, 'yuki');
    const pw = await sipPassword(d, mac);
    const yealink = (await d.request('GET', '/api/v1/provisioning/urls')).json.urls.find((u: any) => u.module === 'yealink');
    expect(yealink.protections.map((x: { en: string }) => x.en)).to.include('HTTP digest with the provisioning user and password');
    const { user, password } = yealink.credentials;
    const key = keyInUrls([yealink]);
    const uri = `/${key}/${mac}.cfg`;
    const ua = { 'user-agent': `Yealink W70B 146.85.0.20 ${mac.match(/../g)!.join(':')}` };

    const first = await prov(d, uri, ua, 'GET', '127.0.0.2');
    expect(first.status).to.equal(401);
    expect(first.text).to.not.include(pw);
    const challenge = String(first.headers['www-authenticate']);
    expect(challenge).to.match(/^Digest realm="pbxd provisioning", qop="auth"/);

    // Whoever has the key (DHCP carries it to the whole phone LAN) cannot work the password out from it.
    expect(password).to.not.equal(derivedDigestPassword(key));

    const served = await prov(d, uri, { ...ua, authorization: authorization(challenge, user, password, 'GET', uri) }, 'GET', '127.0.0.2');
    expect(served.status).to.equal(200);
    expect(served.text).to.include(pw);

    const wrong = await prov(d, uri, { ...ua, authorization: authorization(challenge, user, 'guessed', 'GET', uri) }, 'GET', '127.0.0.2');
    expect(wrong.status).to.equal(401);
    expect(wrong.text).to.not.include(pw);
    // The same file under another spelling: an answer computed for one request target is not one for another.
    const replayed = await prov(d, `/${key}/${mac.toUpperCase()}.cfg`, { ...ua, authorization: authorization(challenge, user, password, 'GET', uri) }, 'GET', '127.0.0.2');
    expect(replayed.status).to.equal(401);
    expect(replayed.text).to.not.include(pw);
    const kinds = (await d.request('GET', '/api/v1/provisioning/alerts')).json.alerts.map((a: any) => a.kind);
    expect(kinds).to.deep.equal(['digest', 'digest']);
  });
});
