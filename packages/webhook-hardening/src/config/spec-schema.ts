import { z } from 'zod';

const optionalText = z.string().optional();

/**
 * Validation of a {@link SignatureSpec} supplied by configuration (a `Custom` scheme or a
 * registered overlay). Unknown fields and invalid enum values are errors, not silent defaults.
 */
export const signatureSpecSchema = z
  .strictObject({
    headerName: z.string().default(''),
    algorithm: z.enum(['sha1', 'sha256', 'sha384', 'sha512']).default('sha256'),
    encoding: z.enum(['hexLower', 'hexUpper', 'base64', 'base64Url']).default('hexLower'),
    prefix: optionalText,
    headerValuePrefix: optionalText,
    multiValueDelimiter: optionalText,
    keyValueSeparator: optionalText,
    signatureValueKey: optionalText,
    timestampValueKey: optionalText,
    acceptedVersions: z.array(z.string()).optional(),
    payload: z
      .enum([
        'rawBody',
        'timestampDotBody',
        'colonDelimited',
        'urlPlusSortedForm',
        'urlPlusBody',
        'timestampPlusToken',
        'custom',
      ])
      .default('rawBody'),
    payloadDelimiter: optionalText,
    payloadVersion: optionalText,
    customStrategyName: optionalText,
    timestampHeaderName: optionalText,
    requireTimestamp: z.boolean().optional(),
    keyEncoding: z.enum(['utf8', 'base64']).optional(),
    freshnessSeconds: z.number().int().positive().optional(),
    bodyTimestampField: z.string().trim().min(1).optional(),
    timestampUnit: z.enum(['seconds', 'milliseconds']).optional(),
  })
  .superRefine((spec, ctx) => {
    if (!spec.headerName.trim() && spec.payload !== 'timestampPlusToken') {
      ctx.addIssue({ code: 'custom', path: ['headerName'], message: 'a signature header name is required' });
    }
    if (spec.payload === 'colonDelimited' && !spec.payloadVersion) {
      ctx.addIssue({
        code: 'custom',
        path: ['payloadVersion'],
        message: "required by payload 'colonDelimited'",
      });
    }
    if (spec.payload === 'custom' && !spec.customStrategyName) {
      ctx.addIssue({ code: 'custom', path: ['customStrategyName'], message: "required by payload 'custom'" });
    }
    if (spec.multiValueDelimiter === '') {
      ctx.addIssue({ code: 'custom', path: ['multiValueDelimiter'], message: 'must not be empty' });
    }
  });
