/** Base class of every error thrown by `@floworch/*` packages. `code` is stable; messages are not. */
export class FlowOrchError extends Error {
  /** A stable, machine-readable code such as `FLOW_NOT_FOUND`. */
  readonly code: string;

  /**
   * @param code stable machine-readable code
   * @param message human-readable explanation, saying what to do where possible
   * @param options standard `ErrorOptions` (for `cause`)
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Thrown by `FlowStore.setEnabled` (and engine calls built on it) for an unknown flow id. */
export class FlowNotFoundError extends FlowOrchError {
  /** @param flowId the id that was not found */
  constructor(readonly flowId: string) {
    super('FLOW_NOT_FOUND', `Flow '${flowId}' was not found.`);
  }
}

/** Thrown by `FlowRunStore.startRun` when a run with the same id already exists. */
export class DuplicateRunError extends FlowOrchError {
  /** @param runId the id that already exists */
  constructor(readonly runId: string) {
    super('DUPLICATE_RUN', `A run with id '${runId}' already exists; run ids must be unique.`);
  }
}

/** A value handed to a store or the engine was malformed. The message names the field. */
export class InvalidArgumentError extends FlowOrchError {
  /**
   * @param argument name of the offending argument or field
   * @param problem what is wrong with it
   */
  constructor(
    readonly argument: string,
    problem: string,
  ) {
    super('INVALID_ARGUMENT', `Invalid ${argument}: ${problem}`);
  }
}

/** Storage could not be reached or configured (connection refused, bad credentials, schema too new…). */
export class StorageError extends FlowOrchError {
  /**
   * @param code stable code, e.g. `STORAGE_UNREACHABLE`
   * @param message what happened and what to do about it
   * @param options standard `ErrorOptions`
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}

/**
 * The database schema was written by a newer release of the backend than the one running; the
 * backend refuses to touch it (schemas are never downgraded). Upgrade the package on every replica.
 */
export class SchemaTooNewError extends StorageError {
  /**
   * @param found version found in the database
   * @param supported newest version this release writes
   * @param backendPackage the package to upgrade, e.g. `@floworch/postgresql`
   * @param subject what is too new, for the message (default: the floworch schema)
   */
  constructor(
    readonly found: number,
    readonly supported: number,
    backendPackage: string,
    subject = 'The floworch schema',
  ) {
    super(
      'SCHEMA_TOO_NEW',
      `${subject} is at version ${found}, but this ${backendPackage} supports up to ${supported}. Upgrade the package on every replica (schemas are never downgraded).`,
    );
  }
}

/** A run id that is well-formed but names no run in the store. */
export class RunNotFoundError extends FlowOrchError {
  /** @param runId the id that was not found (normalised) */
  constructor(readonly runId: string) {
    super('RUN_NOT_FOUND', `Run '${runId}' was not found.`);
  }
}

/** A step key that is not part of the run's flow (or, without a definition, of the run). */
export class StepNotFoundError extends FlowOrchError {
  /**
   * @param runId the run
   * @param stepKey the step key that was not found
   */
  constructor(
    readonly runId: string,
    readonly stepKey: string,
  ) {
    super('STEP_NOT_FOUND', `Step '${stepKey}' is not part of run '${runId}'.`);
  }
}

/** The backend lacks an optional contract (or optional method) the call needs. */
export class CapabilityMissingError extends FlowOrchError {
  /**
   * @param capability the missing contract or method, e.g. `webhookRejections`
   * @param backend the backend's name
   */
  constructor(
    readonly capability: string,
    backend: string,
  ) {
    super('CAPABILITY_MISSING', `Backend '${backend}' does not implement ${capability}.`);
  }
}

/** A trigger was refused because the flow is disabled, and the caller asked for the result. */
export class FlowDisabledError extends FlowOrchError {
  /** @param flowId the disabled flow */
  constructor(readonly flowId: string) {
    super('FLOW_DISABLED', `Flow '${flowId}' is disabled; no run was started.`);
  }
}

/** A step that ended without succeeding, as carried by {@link RunFailedError}. */
export interface FailedStep {
  /** Step key (runtime key, e.g. `loop.2.child`). */
  readonly stepKey: string;
  /** The step's final status (`Failed`, or `Skipped` when the run was cancelled or timed out). */
  readonly status: string;
  /** The failure or skip reason, when one was recorded. */
  readonly error: string | null;
}

/** A run ended `Failed`, `Cancelled` or `TimedOut` where the caller waited for its result. */
export class RunFailedError extends FlowOrchError {
  /**
   * @param runId the run
   * @param status its terminal status
   * @param failedSteps the steps that failed (for a cancelled or timed-out run, those cut short)
   */
  constructor(
    readonly runId: string,
    readonly status: string,
    readonly failedSteps: readonly FailedStep[],
  ) {
    const first = failedSteps[0];
    const cause = first
      ? `: step '${first.stepKey}' ${first.status.toLowerCase()}${first.error ? ` (${first.error})` : ''}`
      : '';
    const more = failedSteps.length > 1 ? ` and ${failedSteps.length - 1} more` : '';
    super('RUN_FAILED', `Run '${runId}' ended ${status}${cause}${more}.`);
  }
}

/** `waitForRun` gave up: the run was still going when `timeoutMs` passed. */
export class RunWaitTimeoutError extends FlowOrchError {
  /**
   * @param runId the run
   * @param timeoutMs how long the caller waited
   */
  constructor(
    readonly runId: string,
    readonly timeoutMs: number,
  ) {
    super('RUN_WAIT_TIMEOUT', `Run '${runId}' did not finish within ${timeoutMs} ms (it keeps running).`);
  }
}
