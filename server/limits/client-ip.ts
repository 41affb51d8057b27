import { isIP } from 'node:net';

/**
 * The caller's IP, the key of every per-client limit. X-Forwarded-For is only believed when
 * TRUST_PROXY says a proxy in front of us writes it: `true` takes the left-most entry (the
 * original client, as the first proxy saw it), a number n the n-th entry from the right
 * (n trusted proxies, each appending the address it saw). Otherwise the socket's address.
 */
export function clientIp(socketAddress: string | undefined, forwardedFor: string | null | undefined, trustProxy: boolean | number): string {
  if (trustProxy !== false && forwardedFor) {
    const hops = forwardedFor
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    const pick = trustProxy === true ? hops[0] : hops[hops.length - trustProxy] ?? hops[0];
    const ip = pick && normalise(pick);
    if (ip) return ip;
  }
  return (socketAddress && normalise(socketAddress)) || 'unknown';
}

function normalise(value: string): string | null {
  const ip = value.startsWith('::ffff:') && isIP(value.slice(7)) === 4 ? value.slice(7) : value;
  return isIP(ip) ? ip : null;
}
