import type { SignatureSpec } from '../types.js';
import { versionedColon } from './shapes.js';

/** Slack: `X-Slack-Signature: v0=<hex>` over `v0:<X-Slack-Request-Timestamp>:<body>`. */
export const slack: SignatureSpec = versionedColon('X-Slack-Signature', 'X-Slack-Request-Timestamp');
