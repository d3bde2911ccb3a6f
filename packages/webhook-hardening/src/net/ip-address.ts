/** Address family of a parsed IP address. */
export type IpFamily = 4 | 6;

/** A parsed IP address: its family and its bytes in network order (4 or 16 of them). */
export interface IpAddress {
  /** 4 for IPv4, 6 for IPv6. */
  readonly family: IpFamily;
  /** Network-order bytes: 4 for IPv4, 16 for IPv6. */
  readonly bytes: Uint8Array;
}

const IPV4_PART = /^(0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * Parses a dotted-quad IPv4 address strictly: exactly four decimal parts, each 0..255, no leading
 * zeros (which some parsers read as octal) and no shorthand such as `"10"`.
 */
export function parseIpv4(text: string): IpAddress | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!IPV4_PART.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return { family: 4, bytes };
}

/** Parses hex groups (no `::`) into 16-bit values; an embedded IPv4 tail counts as two groups. */
function parseGroups(text: string, allowIpv4Tail: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (allowIpv4Tail && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (!v4) return null;
      groups.push((v4.bytes[0]! << 8) | v4.bytes[1]!, (v4.bytes[2]! << 8) | v4.bytes[3]!);
    } else {
      if (!HEX_GROUP.test(part)) return null;
      groups.push(Number.parseInt(part, 16));
    }
  }
  return groups;
}

/**
 * Parses an IPv6 address (with `::` compression and an optional dotted IPv4 tail). Zone ids
 * (`%eth0`) and brackets are rejected: neither belongs in an allow list or a client address.
 */
export function parseIpv6(text: string): IpAddress | null {
  if (!text.includes(':')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  let groups: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0]!, false);
    const tail = parseGroups(halves[1]!, true);
    if (!head || !tail || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(text, true);
    if (all?.length !== 8) return null;
    groups = all;
  }
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  });
  return { family: 6, bytes };
}

/** Parses an IPv4 or IPv6 address strictly (surrounding whitespace ignored); `null` when invalid. */
export function parseIp(text: string): IpAddress | null {
  const trimmed = text.trim();
  return trimmed.includes(':') ? parseIpv6(trimmed) : parseIpv4(trimmed);
}

/** True when `address` is an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`). */
export function isIpv4Mapped(address: IpAddress): boolean {
  if (address.family !== 6) return false;
  for (let i = 0; i < 10; i++) if (address.bytes[i] !== 0) return false;
  return address.bytes[10] === 0xff && address.bytes[11] === 0xff;
}

/**
 * Turns an IPv4-mapped IPv6 address into plain IPv4. Node sockets on dual-stack listeners report
 * IPv4 clients as `::ffff:a.b.c.d`, which would otherwise never match an IPv4 allow-list entry.
 */
export function normalizeIp(address: IpAddress): IpAddress {
  return isIpv4Mapped(address) ? { family: 4, bytes: address.bytes.slice(12) } : address;
}

/** Parses and normalises a client address; `null` for a missing or unparsable one. */
export function parseClientIp(text: string | null | undefined): IpAddress | null {
  if (!text) return null;
  const parsed = parseIp(text);
  return parsed ? normalizeIp(parsed) : null;
}

/** Formats an address canonically (dotted quad, or RFC 5952 compressed IPv6). */
export function formatIp(address: IpAddress): string {
  if (address.family === 4) return Array.from(address.bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((address.bytes[i]! << 8) | address.bytes[i + 1]!);
  // Find the longest run (length ≥ 2) of zero groups to compress as `::`.
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLength).join(':');
  return `${head}::${tail}`;
}

/** Bytewise comparison of two same-family addresses (negative, zero or positive). */
export function compareIp(a: IpAddress, b: IpAddress): number {
  for (let i = 0; i < a.bytes.length; i++) {
    const diff = a.bytes[i]! - b.bytes[i]!;
    if (diff !== 0) return diff;
  }
  return 0;
}
