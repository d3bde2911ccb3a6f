import { formatIp, parseClientIp } from '../net/ip-address.js';

/**
 * Resolves the client address. With `forwardedDepth = n > 0` the request is assumed to pass
 * through `n` trusted proxies that each append to `X-Forwarded-For`, so the client is the n-th
 * entry from the right; anything further left was written by the client and is not trusted.
 * Falls back to the socket address. Returned in canonical form (IPv4-mapped IPv6 as IPv4).
 */
export function resolveClientIp(
  headers: Headers,
  remoteAddress: string | null | undefined,
  forwardedDepth: number,
): string | null {
  if (forwardedDepth > 0) {
    const forwarded = headers.get('x-forwarded-for');
    if (forwarded?.trim()) {
      const entries = forwarded
        .split(',')
        .map((e) => e.trim())
        .filter((e) => e !== '');
      const candidate = entries[Math.max(0, entries.length - forwardedDepth)];
      const parsed = parseClientIp(candidate);
      if (parsed) return formatIp(parsed);
    }
  }
  const socket = parseClientIp(remoteAddress);
  return socket ? formatIp(socket) : null;
}
