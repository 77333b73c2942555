import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * Secrets as they are kept: passwords (admins' and users' client passwords)
 * as scrypt hashes, tokens (admin sessions, API tokens, client tokens) as a
 * SHA-256 of the random token. Nothing here knows who the secret is for.
 */

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: { N: number; r: number; p: number }) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1 };

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function checkPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, key] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const got = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(got, expected);
}

let dummy: Promise<string> | null = null;

/**
 * Check against the stored hash, or (no such account) against a hash of
 * nothing: unknown names cost as much time as known ones, so the answer does
 * not tell which names exist.
 */
export async function checkPasswordOf(password: string, stored: string | undefined): Promise<boolean> {
  dummy ??= hashPassword(randomBytes(8).toString('hex'));
  const ok = await checkPassword(password, stored ?? (await dummy));
  return stored !== undefined && ok;
}

/** Only this hash of a token is stored (admin sessions and API tokens, client tokens). */
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');
