import { FlowOrchError } from '@floworch/core';

/**
 * Webhook security configuration is invalid (unknown scheme, missing key, bad CIDR, …). Thrown at
 * start-up, when options or a trigger are compiled, so that a mistake never reaches a request.
 */
export class WebhookConfigError extends FlowOrchError {
  /** Every problem found, each prefixed with the path of the offending field. */
  readonly problems: readonly string[];

  /**
   * @param where what was being validated, e.g. `webhook options` or `trigger 'webhook' of flow …`
   * @param problems one line per problem
   */
  constructor(where: string, problems: readonly string[]) {
    super('WEBHOOK_CONFIG_INVALID', `Invalid ${where}:\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}
