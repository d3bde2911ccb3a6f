import type { SignatureSpec } from '../types.js';
import { atlassian, bitbucket } from './atlassian.js';
import { calendly } from './calendly.js';
import { dropbox } from './dropbox.js';
import { generic } from './generic.js';
import { github, githubLegacy } from './github.js';
import { linear } from './linear.js';
import { mailgun } from './mailgun.js';
import { microsoftTeams } from './microsoft-teams.js';
import { shopify } from './shopify.js';
import { slack } from './slack.js';
import { square } from './square.js';
import { stripe } from './stripe.js';
import { twilio } from './twilio.js';
import { zoom } from './zoom.js';

/** The built-in dialects by canonical name (lookups are case-insensitive). */
export const BUILT_IN_SCHEMES: Readonly<Record<string, SignatureSpec>> = Object.freeze({
  Generic: generic,
  GitHub: github,
  GitHubLegacy: githubLegacy,
  Bitbucket: bitbucket,
  Stripe: stripe,
  Slack: slack,
  Shopify: shopify,
  Twilio: twilio,
  Square: square,
  Zoom: zoom,
  Linear: linear,
  Dropbox: dropbox,
  Mailgun: mailgun,
  MicrosoftTeams: microsoftTeams,
  Atlassian: atlassian,
  Calendly: calendly,
});

/** Scheme names reserved by the package: every built-in dialect plus `Custom` and `None`. */
export const RESERVED_SCHEME_NAMES: readonly string[] = [...Object.keys(BUILT_IN_SCHEMES), 'Custom', 'None'];

const byLowerName = new Map(
  Object.entries(BUILT_IN_SCHEMES).map(([name, spec]) => [name.toLowerCase(), { name, spec }]),
);

/** Looks a built-in dialect up by name, case-insensitively; `null` when unknown. */
export function builtInScheme(name: string): { readonly name: string; readonly spec: SignatureSpec } | null {
  return byLowerName.get(name.trim().toLowerCase()) ?? null;
}
