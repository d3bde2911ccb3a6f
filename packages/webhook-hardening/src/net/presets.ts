/**
 * Published source ranges of webhook publishers. Each preset names where the partner publishes
 * its list and when this copy was last reviewed against it: ranges change, so refresh them before
 * relying on them, and treat an allow list as defence in depth behind the signature, never instead
 * of it. Only partners that publish a list dedicated to their own infrastructure have a preset;
 * partners whose deliveries come from shared cloud ranges (where an allow list admits anyone
 * renting a machine there) have none — see {@link REMOVED_PRESETS}.
 */

/** A publisher preset: its ranges and their provenance. */
export interface PublisherPreset {
  /** CIDRs and addresses. */
  readonly cidrs: readonly string[];
  /** Where the partner publishes the list. */
  readonly source: string;
  /** Date (UTC) this copy was last reviewed. */
  readonly reviewed: string;
  /** What can go wrong with it. */
  readonly risk: string;
}

const REVIEWED = '2026-11-30';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];
const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7', 'fe80::/10'];

const ATLASSIAN = [
  '13.52.5.0/25',
  '13.236.8.224/28',
  '18.184.99.224/28',
  '18.234.32.224/28',
  '52.215.192.128/25',
  '104.192.136.0/21',
];

const PRESETS: Readonly<Record<string, PublisherPreset>> = {
  github: {
    cidrs: [
      '192.30.252.0/22',
      '185.199.108.0/22',
      '140.82.112.0/20',
      '143.55.64.0/20',
      '2a0a:a440::/29',
      '2606:50c0::/32',
    ],
    source: 'https://api.github.com/meta (hooks)',
    reviewed: REVIEWED,
    risk: "GitHub-owned ranges; every GitHub user's webhooks come from them, so the signature still decides.",
  },
  stripe: {
    cidrs: [
      '3.18.12.63',
      '3.130.192.231',
      '13.235.14.237',
      '13.235.122.149',
      '18.211.135.69',
      '35.154.171.200',
      '52.15.183.38',
      '54.88.130.119',
      '54.88.130.237',
      '54.187.174.169',
      '54.187.205.235',
      '54.187.216.72',
    ],
    source: 'https://stripe.com/files/ips/ips_webhooks.txt',
    reviewed: REVIEWED,
    risk: 'Single addresses; Stripe announces changes ahead of time — a stale list refuses genuine events.',
  },
  atlassian: {
    cidrs: ATLASSIAN,
    source: 'https://ip-ranges.atlassian.com (egress)',
    reviewed: REVIEWED,
    risk: 'Small Atlassian egress blocks hosted in AWS; shared by every Atlassian cloud customer.',
  },
  bitbucket: {
    cidrs: ATLASSIAN,
    source: 'https://ip-ranges.atlassian.com (egress)',
    reviewed: REVIEWED,
    risk: 'Same ranges as atlassian: any Atlassian cloud tenant can send from them.',
  },
  zoom: {
    cidrs: [
      '3.7.35.0/25',
      '3.21.137.128/25',
      '3.22.11.0/24',
      '3.23.93.0/24',
      '3.25.41.128/25',
      '3.80.20.128/25',
      '18.254.23.128/25',
      '44.234.52.192/26',
      '50.239.202.0/23',
      '52.61.100.128/25',
      '64.211.144.0/24',
      '64.224.32.0/19',
      '103.122.166.0/23',
      '111.33.115.0/25',
      '111.33.181.0/25',
      '147.124.96.0/19',
      '149.137.0.0/17',
      '152.105.0.0/16',
      '156.45.0.0/17',
      '159.124.0.0/16',
      '161.199.136.0/22',
      '162.12.232.0/22',
      '165.254.88.0/23',
      '166.108.64.0/18',
      '168.138.16.0/21',
      '168.138.48.0/20',
      '168.138.72.0/21',
      '170.114.0.0/16',
      '173.231.80.0/20',
      '204.80.104.0/21',
      '206.247.0.0/16',
      '207.226.132.0/24',
    ],
    source: "Zoom support: 'Zoom network firewall or proxy server settings'",
    reviewed: REVIEWED,
    risk: 'Zoom-assigned blocks, some hosted in AWS; shared by every Zoom tenant.',
  },
  loopback: {
    cidrs: LOOPBACK,
    source: 'RFC 1122, RFC 4291',
    reviewed: REVIEWED,
    risk: 'Behind a reverse proxy on the same host every request comes from loopback: set trustedProxies.',
  },
  private: {
    cidrs: [...LOOPBACK, ...PRIVATE],
    source: 'RFC 1918, RFC 4193, RFC 4291',
    reviewed: REVIEWED,
    risk: 'Behind a reverse proxy every request comes from a private address: set trustedProxies.',
  },
};

/** Older names that still resolve. `local` and `localhost` now mean loopback only. */
const ALIASES: Readonly<Record<string, string>> = { local: 'loopback', localhost: 'loopback' };

/**
 * Presets that were removed, with the reason shown in the start-up error. These partners publish
 * no list of their own: their deliveries come from shared cloud ranges, so the earlier presets
 * (AWS and Cloudflare blocks of /12 to /16) admitted anyone renting a machine there.
 */
export const REMOVED_PRESETS: Readonly<Record<string, string>> = {
  shopify: 'Shopify publishes no webhook source list (the earlier preset included a Cloudflare /12)',
  twilio: 'Twilio publishes no webhook source list; its deliveries come from shared AWS ranges',
  slack: 'Slack publishes no webhook source list (the earlier preset included an AWS EC2 /12)',
  square: "the earlier preset held AWS EC2 /16 blocks; copy Square's published addresses into ip.allow",
  mailgun: 'Mailgun publishes no stable webhook source list; the earlier preset held AWS ranges',
};

/** Whether a preset is the kind that matches a reverse proxy's own address. */
export function isLocalPreset(name: string): boolean {
  const key = canonical(name);
  return key === 'loopback' || key === 'private';
}

function canonical(name: string): string {
  const key = name.trim().toLowerCase();
  return Object.hasOwn(ALIASES, key) ? ALIASES[key]! : key;
}

/** The canonical preset names (aliases such as `local` and `localhost` are accepted too). */
export const PUBLISHER_PRESET_NAMES: readonly string[] = Object.keys(PRESETS);

/** Every accepted preset name, aliases included. */
export function allPresetNames(): string[] {
  return [...Object.keys(PRESETS), ...Object.keys(ALIASES)];
}

/** A preset with its provenance (name case-insensitive), or `null` for an unknown name. */
export function publisherPresetInfo(name: string): PublisherPreset | null {
  const key = canonical(name);
  // hasOwn: a name such as "constructor" must not reach Object.prototype.
  return Object.hasOwn(PRESETS, key) ? PRESETS[key]! : null;
}

/** The CIDRs of a publisher preset (name case-insensitive), or `null` for an unknown name. */
export function publisherPreset(name: string): readonly string[] | null {
  return publisherPresetInfo(name)?.cidrs ?? null;
}

/** Why a preset name was removed, or `null` when it was not. */
export function removedPresetReason(name: string): string | null {
  const key = name.trim().toLowerCase();
  return Object.hasOwn(REMOVED_PRESETS, key) ? REMOVED_PRESETS[key]! : null;
}
