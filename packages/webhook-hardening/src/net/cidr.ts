import {
  compareIp,
  type IpAddress,
  isIpv4Mapped,
  normalizeIp,
  parseClientIp,
  parseIp,
} from './ip-address.js';

/** One parsed allow/deny entry: a prefix block or an inclusive range. */
export type IpRule =
  | { readonly kind: 'prefix'; readonly network: IpAddress; readonly bits: number; readonly source: string }
  | { readonly kind: 'range'; readonly first: IpAddress; readonly last: IpAddress; readonly source: string };

/** Mapped IPv6 entries (`::ffff:10.0.0.0/104`) become IPv4 so they meet normalised client addresses. */
function normalizePrefix(network: IpAddress, bits: number): { network: IpAddress; bits: number } {
  if (isIpv4Mapped(network) && bits >= 96) return { network: normalizeIp(network), bits: bits - 96 };
  return { network, bits };
}

function parseRange(text: string): IpRule | null {
  const dash = text.indexOf('-');
  if (dash <= 0 || text.includes('/')) return null;
  const first = parseIp(text.slice(0, dash));
  const last = parseIp(text.slice(dash + 1));
  if (!first || !last) return null;
  const a = normalizeIp(first);
  const b = normalizeIp(last);
  if (a.family !== b.family || compareIp(a, b) > 0) return null;
  return { kind: 'range', first: a, last: b, source: text };
}

/** `10.0.*.*` style: numeric octets first, then only `*`; the numeric count sets the prefix. */
function parseWildcard(text: string): IpRule | null {
  if (!text.includes('*') || text.includes('/') || text.includes(':')) return null;
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const firstStar = parts.indexOf('*');
  if (parts.slice(firstStar).some((p) => p !== '*')) return null;
  const concrete = parts.map((p) => (p === '*' ? '0' : p)).join('.');
  const network = parseIp(concrete);
  if (network?.family !== 4) return null;
  return { kind: 'prefix', network, bits: firstStar * 8, source: text };
}

function parsePrefix(text: string): IpRule | null {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const address = parseIp(addressText);
  if (!address) return null;
  const max = address.family === 4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const bitsText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bitsText)) return null;
    bits = Number(bitsText);
    if (bits > max) return null;
  }
  return { kind: 'prefix', ...normalizePrefix(address, bits), source: text };
}

/**
 * Parses one allow/deny entry: a range `A-B`, an IPv4 wildcard `10.0.*.*`, a CIDR `addr/bits` or a
 * bare address. Host bits below the prefix need not be zero. Returns `null` when invalid.
 */
export function parseIpRule(entry: string): IpRule | null {
  const text = entry.trim();
  if (!text) return null;
  return parseRange(text) ?? parseWildcard(text) ?? parsePrefix(text);
}

function prefixMatches(rule: Extract<IpRule, { kind: 'prefix' }>, address: IpAddress): boolean {
  const full = Math.floor(rule.bits / 8);
  for (let i = 0; i < full; i++) if (rule.network.bytes[i] !== address.bytes[i]) return false;
  const rest = rule.bits % 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((rule.network.bytes[full]! ^ address.bytes[full]!) & mask) === 0;
}

/** True when `address` falls inside `rule` (families must agree). */
export function ruleMatches(rule: IpRule, address: IpAddress): boolean {
  if (rule.kind === 'prefix') return rule.network.family === address.family && prefixMatches(rule, address);
  return (
    rule.first.family === address.family &&
    compareIp(rule.first, address) <= 0 &&
    compareIp(address, rule.last) <= 0
  );
}

/**
 * An IP list (allow or deny) built from textual entries. Invalid entries are kept aside in
 * {@link CidrMatcher.invalidEntries} rather than thrown, so configuration validation can name them
 * all at once while the matcher itself stays usable.
 */
export class CidrMatcher {
  /** The entries that parsed. */
  readonly rules: readonly IpRule[];
  /** The entries that did not parse, as given. */
  readonly invalidEntries: readonly string[];

  /** @param entries textual entries (blank ones are ignored) */
  constructor(entries: Iterable<string>) {
    const rules: IpRule[] = [];
    const invalid: string[] = [];
    for (const entry of entries) {
      if (!entry.trim()) continue;
      const rule = parseIpRule(entry);
      if (rule) rules.push(rule);
      else invalid.push(entry);
    }
    this.rules = rules;
    this.invalidEntries = invalid;
  }

  /** Number of valid entries. */
  get count(): number {
    return this.rules.length;
  }

  /** True when no entry parsed. */
  get isEmpty(): boolean {
    return this.rules.length === 0;
  }

  /**
   * True when the address matches any entry. Accepts a parsed address or text; text is parsed
   * strictly and IPv4-mapped IPv6 is normalised first. A missing or invalid address never matches.
   */
  matches(address: IpAddress | string | null | undefined): boolean {
    const parsed =
      typeof address === 'string' || address == null ? parseClientIp(address) : normalizeIp(address);
    if (!parsed) return false;
    return this.rules.some((rule) => ruleMatches(rule, parsed));
  }
}
