/**
 * Published source ranges of webhook publishers, as point-in-time snapshots (the same set the
 * reference ships). Refresh them from each publisher's documentation before relying on them.
 */
const LOCAL = [
  '127.0.0.0/8',
  '::1/128',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  'fc00::/7',
  'fe80::/10',
];
const ATLASSIAN = [
  '13.52.5.0/25',
  '13.236.8.224/28',
  '18.184.99.224/28',
  '18.234.32.224/28',
  '52.215.192.128/25',
  '104.192.136.0/21',
];

const PRESETS: Readonly<Record<string, readonly string[]>> = {
  github: [
    '192.30.252.0/22',
    '185.199.108.0/22',
    '140.82.112.0/20',
    '143.55.64.0/20',
    '2a0a:a440::/29',
    '2606:50c0::/32',
  ],
  stripe: [
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
  shopify: ['23.227.38.0/24', '104.16.0.0/12'],
  twilio: [
    '54.172.60.0/23',
    '54.244.51.0/24',
    '177.71.206.192/26',
    '13.244.0.0/15',
    '52.215.127.0/24',
    '35.156.191.128/25',
  ],
  square: ['23.21.0.0/16', '54.243.0.0/16', '107.20.0.0/16'],
  atlassian: ATLASSIAN,
  bitbucket: ATLASSIAN,
  slack: ['54.241.0.0/22', '34.192.0.0/12'],
  mailgun: ['3.19.228.0/22', '34.198.203.127/32', '34.198.178.64/32', '34.198.122.37/32'],
  zoom: [
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
  local: LOCAL,
  localhost: LOCAL,
  private: LOCAL,
};

/** The canonical preset names (aliases such as `localhost` and `private` are accepted too). */
export const PUBLISHER_PRESET_NAMES: readonly string[] = [
  'github',
  'stripe',
  'shopify',
  'twilio',
  'square',
  'atlassian',
  'bitbucket',
  'slack',
  'mailgun',
  'zoom',
  'local',
];

/** Every accepted preset name, aliases included. */
export function allPresetNames(): string[] {
  return Object.keys(PRESETS);
}

/** The CIDRs of a publisher preset (name case-insensitive), or `null` for an unknown name. */
export function publisherPreset(name: string): readonly string[] | null {
  const key = name.trim().toLowerCase();
  // hasOwn: a name such as "constructor" must not reach Object.prototype.
  return Object.hasOwn(PRESETS, key) ? PRESETS[key]! : null;
}
