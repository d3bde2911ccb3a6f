import { formatIp, parseClientIp } from '../../net/ip-address.js';

/**
 * The rate-limit identity of a client address. IPv4 addresses count one by one; IPv6 addresses
 * count per /64, the smallest block a site is normally given, since one host can use any of the
 * 2^64 addresses of its network and would otherwise get that many buckets.
 */
export function rateLimitClientKey(clientIp: string): string {
  const parsed = parseClientIp(clientIp);
  if (!parsed) return clientIp;
  if (parsed.family === 4) return formatIp(parsed);
  const network = new Uint8Array(16);
  network.set(parsed.bytes.subarray(0, 8));
  return `${formatIp({ family: 6, bytes: network })}/64`;
}
