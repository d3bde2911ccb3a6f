import type { SignatureSpec } from '../types.js';
import { versionedColon } from './shapes.js';

/** Zoom: Slack's format in `X-Zm-Signature` with `X-Zm-Request-Timestamp`. */
export const zoom: SignatureSpec = versionedColon('X-Zm-Signature', 'X-Zm-Request-Timestamp');
