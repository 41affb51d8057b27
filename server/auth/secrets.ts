import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;

// OWASP's scrypt floor (N=2^17, r=8, p=1) costs ~130 MiB; 2^15 keeps a login near 50 ms on this hardware.
const N = 2 ** 15;
const r = 8;
const p = 1;
const keyLength = 32;
const maxmem = 64 * 1024 * 1024;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, keyLength, { N, r, p, maxmem });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, rr, pp, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(rr),
    p: Number(pp),
    maxmem,
  });
  return timingSafeEqual(actual, expected);
}

/** A password hash that matches nothing, verified when the email is unknown so timing reveals nothing. */
export const decoyPasswordHash = `scrypt$${N}$${r}$${p}$${randomBytes(16).toString('base64url')}$${randomBytes(32).toString('base64url')}`;

export type SecretKind = 'session' | 'api' | 'audience';
const prefixes: Record<SecretKind, string> = { session: 'shs_', api: 'shp_', audience: 'sha_' };

/** A random bearer secret. Stored only as its sha256: 256 random bits need no slow hash. */
export function newSecret(kind: SecretKind): { value: string; hash: string; prefix: string } {
  const value = prefixes[kind] + randomBytes(32).toString('base64url');
  return { value, hash: hashSecret(value), prefix: value.slice(0, 10) };
}

export function hashSecret(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function secretKind(value: string): SecretKind | null {
  for (const [kind, prefix] of Object.entries(prefixes)) if (value.startsWith(prefix)) return kind as SecretKind;
  return null;
}
