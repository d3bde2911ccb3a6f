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
