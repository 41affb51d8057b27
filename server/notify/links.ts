import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { hashSecret } from '../auth/secrets.js';

/**
 * The tokens of a subscriber's links (docs/API.md, *Email*): random (256 bits), stored only as
 * their sha256 (server/auth/secrets.ts), looked up by that hash and compared in constant time.
 * `shc_`: the double opt-in confirmation; `shm_`: manage preferences and unsubscribe (one per
 * subscriber, made when it subscribes, and one per email message, on the delivery row).
 */
export function newLinkToken(kind: 'confirm' | 'manage'): { value: string; hash: string } {
  const value = (kind === 'confirm' ? 'shc_' : 'shm_') + randomBytes(32).toString('base64url');
  return { value, hash: hashSecret(value) };
}

/**
 * The manage token of one message's links: derived from the subscriber's own manage token hash (a
 * secret only the database holds) and the message's idempotency key, so every attempt of one
 * message carries the same links (a retried webhook has the same body, byte for byte) while each
 * message's token is its own. Random when the subscriber has no manage token.
 */
export function messageLinkToken(manageTokenHash: string | null, idempotencyKey: string): { value: string; hash: string } {
  if (!manageTokenHash) return newLinkToken('manage');
  const value = 'shm_' + createHmac('sha256', manageTokenHash).update(`message-links:${idempotencyKey}`).digest('base64url');
  return { value, hash: hashSecret(value) };
}

/** The token's hash, or null when it cannot be one of ours (looked up nowhere). */
export function linkTokenHash(token: string | null | undefined, kind: 'confirm' | 'manage'): string | null {
  if (!token || token.length > 100 || !token.startsWith(kind === 'confirm' ? 'shc_' : 'shm_')) return null;
  return hashSecret(token);
}

/** Constant-time comparison of two hex hashes (the row found by hash, checked again). */
export function sameHash(a: string | null | undefined, b: string): boolean {
  if (!a || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export const subscriptionLinks = (origin: string, token: string) => ({
  confirmUrl: `${origin}/subscriptions/confirm?token=${encodeURIComponent(token)}`,
  manageUrl: `${origin}/subscriptions/manage?token=${encodeURIComponent(token)}`,
  unsubscribeUrl: `${origin}/subscriptions/unsubscribe?token=${encodeURIComponent(token)}`,
});
