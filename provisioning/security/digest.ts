import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * HTTP digest authentication (RFC 7616, MD5 with qop=auth: what phone
 * firmware speaks) with the site's provisioning credentials, on top of the key.
 * Each site key has a random password of its own (migration 19), so it
 * rotates with the key (and a rotated-out key's password works for the same
 * overlap); a key made before then has one derived from it. Nonces are stateless:
 * a time and its HMAC, valid for NONCE_MS.
 */
export const DIGEST_USER = 'provisioning';
const DIGEST_REALM = 'pbxd provisioning';
const NONCE_MS = 5 * 60_000;

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** The password of a key made before migration 19: derived from the key, so no secret beyond it. */
export const derivedDigestPassword = (siteKey: string): string => createHmac('sha256', siteKey).update('pbxd provisioning digest').digest('base64url').slice(0, 20);

export class DigestAuth {
  private readonly secret = randomBytes(32);

  private sign(t: string): string {
    return createHmac('sha256', this.secret).update(t).digest('base64url').slice(0, 22);
  }

  /** The WWW-Authenticate header of a 401. */
  challenge(stale = false, now = Date.now()): string {
    const t = now.toString(36);
    return `Digest realm="${DIGEST_REALM}", qop="auth", algorithm=MD5, nonce="${t}.${this.sign(t)}"${stale ? ', stale=true' : ''}`;
  }

  /**
   * Check an Authorization header for `method` and the request target `uri`
   * against the passwords of the valid keys: 'ok', 'missing' (the first,
   * unauthenticated request every phone makes), 'stale' (an old nonce), or 'wrong'.
   */
  check(header: string | undefined, method: string, uri: string, passwords: string[], now = Date.now()): 'ok' | 'missing' | 'stale' | 'wrong' {
    if (!header || !/^Digest\s/i.test(header)) return 'missing';
    const p = new Map<string, string>();
    for (const m of header.slice(7).matchAll(/([a-zA-Z0-9_-]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) p.set(m[1]!.toLowerCase(), m[2] ?? m[3] ?? '');
    const nonce = p.get('nonce') ?? '';
    const [t, mac] = nonce.split('.');
    if (!t || !mac || !safeEqual(mac, this.sign(t))) return 'wrong';
    if (p.get('username') !== DIGEST_USER || p.get('realm') !== DIGEST_REALM || p.get('uri') !== uri) return 'wrong';
    const qop = p.get('qop');
    const ha2 = md5(`${method}:${uri}`);
    for (const pw of passwords) {
      const ha1 = md5(`${DIGEST_USER}:${DIGEST_REALM}:${pw}`);
      const want = qop === 'auth' ? md5(`${ha1}:${nonce}:${p.get('nc') ?? ''}:${p.get('cnonce') ?? ''}:auth:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
      if (safeEqual(want, p.get('response') ?? '')) return now - parseInt(t, 36) > NONCE_MS ? 'stale' : 'ok';
    }
    return 'wrong';
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
