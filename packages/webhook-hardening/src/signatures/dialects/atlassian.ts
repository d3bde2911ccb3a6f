import type { SignatureSpec } from '../types.js';
import { hubSignature } from './shapes.js';

/** Atlassian (Jira, Confluence): GitHub's format in `X-Hub-Signature`. */
export const atlassian: SignatureSpec = hubSignature('X-Hub-Signature');

/** Bitbucket: GitHub's format in `X-Hub-Signature`. */
export const bitbucket: SignatureSpec = hubSignature('X-Hub-Signature');
