import { z } from 'zod';
import type { SignatureSpec } from '../signatures/types.js';
import { signatureSpecSchema } from './spec-schema.js';

/** Signature settings of one webhook trigger. */
export interface TriggerSignatureSettings {
  /**
   * A built-in dialect (`GitHub`, `Stripe`, … case-insensitive), a scheme registered in the
   * options, a registered verifier's name, or `Custom` with {@link TriggerSignatureSettings.custom}.
   */
  readonly scheme: string;
  /** Current HMAC secret (required for HMAC dialects). */
  readonly key?: string;
  /** Previous secret, accepted while a rotation is in progress. */
  readonly previousKey?: string;
  /** The dialect of a `Custom` scheme. */
  readonly custom?: Partial<SignatureSpec> & { readonly headerName: string };
  /**
   * Freshness window in seconds for dialects that sign a timestamp (default: the dialect's, 300 s
   * for most, 60 s for Linear). Applies whether or not replay protection is on.
   */
  readonly freshnessSeconds?: number;
}

/** Replay settings of one trigger; they override the global ones field by field. */
export interface TriggerReplaySettings {
  /** Accepted skew in seconds; 0 turns replay protection off for this trigger. */
  readonly toleranceSeconds?: number;
  /**
   * Ignored (kept so existing settings still validate): only a timestamp the signature covers is
   * trusted. A custom dialect names its signed timestamp header in its own spec.
   */
  readonly timestampHeader?: string;
  /**
   * Header holding the publisher's delivery id (`X-GitHub-Delivery`). It is registered as a nonce
   * *in addition to* the one built from the signed bytes, never instead of it.
   */
  readonly nonceHeader?: string;
  /**
   * Needed for dialects that sign no timestamp (GitHub, Shopify, …): the nonce built from the
   * signed body alone is checked and remembered for `2 × tolerance` from arrival. Weaker than a
   * signed timestamp, since a replay after that window passes, so it is opt-in. Default false.
   */
  readonly allowMissingTimestamp?: boolean;
}

/** IP lists of one trigger. */
export interface TriggerIpSettings {
  /** Allowed addresses: CIDRs, bare addresses, ranges `a-b`, IPv4 wildcards `10.0.*.*`. */
  readonly allow?: readonly string[];
  /** Publisher presets added to the allow list (`github`, `stripe`, `local`, …). */
  readonly presets?: readonly string[];
  /** Denied addresses (same grammar). */
  readonly deny?: readonly string[];
}

/** Security settings of one webhook trigger. */
export interface WebhookTriggerSecurity {
  /** Legacy shared secret callers present in `X-Webhook-Key` or `Authorization: Bearer`. */
  readonly sharedSecret?: string;
  /** Signature verification. */
  readonly signature?: TriggerSignatureSettings;
  /** Replay protection (merged over the global defaults). */
  readonly replay?: TriggerReplaySettings;
  /** Rate limit; replaces the global one entirely. `permitsPerSecond: 0` turns it off. */
  readonly rateLimit?: {
    readonly permitsPerSecond: number;
    readonly burst?: number;
    readonly perIp?: boolean;
  };
  /** IP allow and deny lists. */
  readonly ip?: TriggerIpSettings;
}

const header = z.string().trim().min(1);

/** Validation of {@link WebhookTriggerSecurity}. */
export const webhookTriggerSecuritySchema = z.strictObject({
  sharedSecret: z.string().min(1).optional(),
  signature: z
    .strictObject({
      scheme: z.string().trim().min(1),
      key: z.string().optional(),
      previousKey: z.string().optional(),
      custom: signatureSpecSchema.optional(),
      freshnessSeconds: z.number().int().positive().optional(),
    })
    .optional(),
  replay: z
    .strictObject({
      toleranceSeconds: z.number().int().min(0).optional(),
      timestampHeader: header.optional(),
      nonceHeader: header.optional(),
      allowMissingTimestamp: z.boolean().optional(),
    })
    .optional(),
  rateLimit: z
    .strictObject({
      permitsPerSecond: z.number().min(0).finite(),
      burst: z.number().int().positive().optional(),
      perIp: z.boolean().optional(),
    })
    .optional(),
  ip: z
    .strictObject({
      allow: z.array(z.string()).optional(),
      presets: z.array(z.string()).optional(),
      deny: z.array(z.string()).optional(),
    })
    .optional(),
});
