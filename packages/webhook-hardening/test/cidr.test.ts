import { BlockList } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allPresetNames, CidrMatcher, formatIp, parseIp, publisherPreset } from '../src/index.js';

const m = (...entries: string[]) => new CidrMatcher(entries);

describe('CidrMatcher', () => {
  it('matches IPv4 and IPv6 prefixes and bare addresses', () => {
    expect(m('10.0.0.0/8').matches('10.5.6.7')).toBe(true);
    expect(m('10.0.0.0/8').matches('11.0.0.0')).toBe(false);
    expect(m('192.168.1.0/24').matches('192.168.1.42')).toBe(true);
    expect(m('192.168.1.0/24').matches('192.168.2.0')).toBe(false);
    expect(m('203.0.113.42').matches('203.0.113.42')).toBe(true);
    expect(m('203.0.113.42').matches('203.0.113.43')).toBe(false);
    expect(m('2001:db8::/32').matches('2001:db8:1234::1')).toBe(true);
    expect(m('2001:db8::/32').matches('2002::1')).toBe(false);
  });

  it('an empty list matches nothing; invalid entries are set aside', () => {
    expect(m().matches('10.0.0.1')).toBe(false);
    expect(m().isEmpty).toBe(true);
    const mixed = m('garbage', '10.0.0.0/8', '10.0.0.0/99');
    expect(mixed.count).toBe(1);
    expect(mixed.invalidEntries).toEqual(['garbage', '10.0.0.0/99']);
  });

  it('parses strictly: no shorthand, no leading zeros, no zone ids', () => {
    for (const bad of [
      '10',
      '10.0.0',
      '010.0.0.1',
      '1.2.3.256',
      'fe80::1%eth0',
      '[::1]',
      '1:2:3:4:5:6:7:8:9',
      '::1::2',
    ]) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });

  it('ranges are inclusive; reversed ranges are dropped', () => {
    const v4 = m('10.0.0.10-10.0.0.20');
    for (const ip of ['10.0.0.10', '10.0.0.15', '10.0.0.20']) expect(v4.matches(ip), ip).toBe(true);
    for (const ip of ['10.0.0.9', '10.0.0.21', '10.0.1.10']) expect(v4.matches(ip), ip).toBe(false);
    const v6 = m('2001:db8::1-2001:db8::ff');
    expect(v6.matches('2001:db8::42')).toBe(true);
    expect(v6.matches('2001:db8::1:0')).toBe(false);
    expect(m('10.0.0.20-10.0.0.10').isEmpty).toBe(true);
  });

  it('IPv4 wildcards act as /24, /16, /8; a star before a number is invalid', () => {
    expect(m('10.0.0.*').matches('10.0.0.99')).toBe(true);
    expect(m('10.0.0.*').matches('10.0.1.1')).toBe(false);
    expect(m('10.0.*.*').matches('10.0.200.1')).toBe(true);
    expect(m('10.*.*.*').matches('10.200.0.1')).toBe(true);
    expect(m('10.*.*.*').matches('11.0.0.1')).toBe(false);
    expect(m('10.*.0.0').isEmpty).toBe(true);
  });

  it('a mixed list works', () => {
    const list = m('10.0.0.0/8', '192.168.1.5-192.168.1.9', '172.16.*.*', '8.8.8.8');
    for (const ip of ['10.1.1.1', '192.168.1.7', '172.16.3.3', '8.8.8.8'])
      expect(list.matches(ip), ip).toBe(true);
    expect(list.matches('8.8.4.4')).toBe(false);
  });

  it('normalises IPv4-mapped IPv6 client addresses (and entries) to IPv4', () => {
    expect(m('10.0.0.0/8').matches('::ffff:10.1.2.3')).toBe(true);
    expect(m('::ffff:10.0.0.0/104').matches('10.9.9.9')).toBe(true);
    expect(m('10.0.0.0/8').matches('::ffff:11.1.2.3')).toBe(false);
  });

  it('never matches a missing or invalid address', () => {
    expect(m('0.0.0.0/0').matches(null)).toBe(false);
    expect(m('0.0.0.0/0').matches('not-an-ip')).toBe(false);
  });
});

describe('publisher presets', () => {
  it('every preset name resolves to a non-empty, valid list', () => {
    for (const name of allPresetNames()) {
      const cidrs = publisherPreset(name);
      expect(cidrs?.length, name).toBeGreaterThan(0);
      expect(new CidrMatcher(cidrs!).invalidEntries, name).toEqual([]);
    }
  });

  it('local is loopback only; private adds the private ranges', () => {
    const local = new CidrMatcher(publisherPreset('local')!);
    for (const ip of ['127.0.0.1', '::1']) expect(local.matches(ip), ip).toBe(true);
    for (const ip of ['10.5.5.5', '192.168.1.1', '8.8.8.8']) expect(local.matches(ip), ip).toBe(false);
    const privateRanges = new CidrMatcher(publisherPreset('private')!);
    for (const ip of ['127.0.0.1', '10.5.5.5', '192.168.1.1', '172.20.0.1'])
      expect(privateRanges.matches(ip), ip).toBe(true);
    expect(privateRanges.matches('8.8.8.8')).toBe(false);
  });

  it('github and stripe contain known sender addresses; names are case-insensitive', () => {
    expect(new CidrMatcher(publisherPreset('GitHub')!).matches('192.30.253.10')).toBe(true);
    expect(new CidrMatcher(publisherPreset('STRIPE')!).matches('3.18.12.63')).toBe(true);
    expect(publisherPreset('nope')).toBeNull();
    expect(publisherPreset('constructor')).toBeNull();
  });
});

describe('CidrMatcher properties', () => {
  const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => formatIp({ family: 4, bytes: b }));
  const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIp({ family: 6, bytes: b }));

  it('agrees with node:net BlockList on IPv4 prefixes', () => {
    fc.assert(
      fc.property(ipv4, fc.integer({ min: 0, max: 32 }), ipv4, (network, bits, candidate) => {
        const oracle = new BlockList();
        oracle.addSubnet(network, bits, 'ipv4');
        expect(m(`${network}/${bits}`).matches(candidate)).toBe(oracle.check(candidate, 'ipv4'));
      }),
    );
  });

  it('agrees with node:net BlockList on IPv6 prefixes', () => {
    fc.assert(
      fc.property(ipv6, fc.integer({ min: 0, max: 128 }), ipv6, (network, bits, candidate) => {
        const oracle = new BlockList();
        oracle.addSubnet(network, bits, 'ipv6');
        const expected = oracle.check(candidate, 'ipv6');
        // Mapped candidates are normalised to IPv4 on our side; compare only unmapped ones.
        fc.pre(!candidate.startsWith('::ffff:'));
        expect(m(`${network}/${bits}`).matches(candidate)).toBe(expected);
      }),
    );
  });

  it('every address lies in its own /n for every n, and in a range it bounds', () => {
    fc.assert(
      fc.property(fc.oneof(ipv4, ipv6), fc.nat(), (ip, n) => {
        const bits = n % (ip.includes(':') ? 129 : 33);
        fc.pre(!ip.startsWith('::ffff:'));
        expect(m(`${ip}/${bits}`).matches(ip)).toBe(true);
        expect(m(`${ip}-${ip}`).matches(ip)).toBe(true);
      }),
    );
  });

  it('formatting and parsing round-trip', () => {
    fc.assert(
      fc.property(fc.oneof(ipv4, ipv6), (ip) => {
        expect(formatIp(parseIp(ip)!)).toBe(ip);
      }),
    );
  });

  it('never matches an address of the other family', () => {
    fc.assert(
      fc.property(ipv4, ipv6, (v4, v6) => {
        fc.pre(!v6.startsWith('::ffff:'));
        expect(m('0.0.0.0/0').matches(v6)).toBe(false);
        expect(m('::/0').matches(v4)).toBe(false);
      }),
    );
  });
});
