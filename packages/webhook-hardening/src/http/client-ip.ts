import type { CidrMatcher } from '../net/cidr.js';
import { formatIp, parseClientIp } from '../net/ip-address.js';

/** How `X-Forwarded-For` may be used to find the client behind reverse proxies. */
export interface ForwardedTrust {
  /** Addresses of the proxies in front of this server; `null` or empty: never read the header. */
  readonly trustedProxies: CidrMatcher | null;
  /** At most this many header entries are examined, right to left (default: all). */
  readonly maxHops?: number;
}

/**
 * Resolves the client address. `X-Forwarded-For` is read only when the socket peer is a trusted
 * proxy (anyone else could have written it). The header is then walked from the right, skipping
 * entries that are themselves trusted proxies; the first other entry is the client. A malformed
 * entry, an empty header or a walk past `maxHops` falls back to the socket address, never to a
 * client-written value. Returned in canonical form (IPv4-mapped IPv6 as IPv4).
 */
export function resolveClientIp(
  headers: Headers,
  remoteAddress: string | null | undefined,
  trust: ForwardedTrust = { trustedProxies: null },
): string | null {
  const socket = parseClientIp(remoteAddress);
  const socketText = socket ? formatIp(socket) : null;
  const proxies = trust.trustedProxies;
  if (!socketText || !proxies || proxies.isEmpty || !proxies.matches(socketText)) return socketText;
  const forwarded = headers.get('x-forwarded-for');
  if (!forwarded?.trim()) return socketText;
  const entries = forwarded.split(',').map((e) => e.trim());
  const maxHops = trust.maxHops ?? Number.POSITIVE_INFINITY;
  let hops = 0;
  for (let i = entries.length - 1; i >= 0 && hops < maxHops; i--, hops++) {
    const parsed = parseClientIp(entries[i]);
    if (!parsed) return socketText;
    const text = formatIp(parsed);
    if (!proxies.matches(text)) return text;
    // Every entry is a trusted proxy: the leftmost one is where the request entered.
    if (i === 0) return text;
  }
  return socketText;
}
