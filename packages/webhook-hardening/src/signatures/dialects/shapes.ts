import type { SignatureSpec } from '../types.js';

/** A hex SHA-256 digest of the raw body behind a `sha256=` prefix (GitHub and its imitators). */
export function hubSignature(headerName: string): SignatureSpec {
  return { headerName, algorithm: 'sha256', encoding: 'hexLower', prefix: 'sha256=', payload: 'rawBody' };
}

/** A bare hex SHA-256 digest of the raw body. */
export function bareHex(headerName: string): SignatureSpec {
  return { headerName, algorithm: 'sha256', encoding: 'hexLower', payload: 'rawBody' };
}

/** Stripe's `t=<ts>,v1=<sig>[,v1=<sig>]` header over `<ts>.<body>` (Calendly copies it). */
export function timestampedMultiValue(headerName: string): SignatureSpec {
  return {
    headerName,
    algorithm: 'sha256',
    encoding: 'hexLower',
    multiValueDelimiter: ',',
    keyValueSeparator: '=',
    signatureValueKey: 'v1',
    timestampValueKey: 't',
    acceptedVersions: ['v1'],
    payload: 'timestampDotBody',
    requireTimestamp: true,
  };
}

/** Slack's `v0=<hex>` over `v0:<ts>:<body>` with the timestamp in its own header (Zoom copies it). */
export function versionedColon(headerName: string, timestampHeaderName: string): SignatureSpec {
  return {
    headerName,
    algorithm: 'sha256',
    encoding: 'hexLower',
    prefix: 'v0=',
    payload: 'colonDelimited',
    payloadVersion: 'v0',
    timestampHeaderName,
    requireTimestamp: true,
  };
}
