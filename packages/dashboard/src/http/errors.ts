import { FlowOrchError } from '@floworch/core';

/** An error answered as `{ error, code }` with an HTTP status. */
export class HttpError extends Error {
  /**
   * @param status HTTP status
   * @param code stable machine-readable code
   * @param message human-readable reason (safe to show: it never carries secrets or SQL)
   */
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** 400 with a reason. */
export const badRequest = (message: string, code = 'BAD_REQUEST'): HttpError =>
  new HttpError(400, code, message);

/** 404 with a reason. */
export const notFound = (message: string, code = 'NOT_FOUND'): HttpError => new HttpError(404, code, message);

/** HTTP status of a `@floworch/core` error code. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  INVALID_ARGUMENT: 400,
  INVALID_MANIFEST: 400,
  FLOW_NOT_FOUND: 404,
  RUN_NOT_FOUND: 404,
  STEP_NOT_FOUND: 404,
  FLOW_DISABLED: 409,
  DUPLICATE_RUN: 409,
  NO_MANIFEST: 409,
  NOT_STARTED: 503,
  CAPABILITY_MISSING: 501,
};

/** The body and status of any error a route throws; unknown errors become a bare 500. */
export function errorResponse(error: unknown): { status: number; body: { error: string; code: string } } {
  if (error instanceof HttpError) {
    return { status: error.status, body: { error: error.message, code: error.code } };
  }
  if (error instanceof FlowOrchError) {
    const status = STATUS_BY_CODE[error.code];
    if (status !== undefined) return { status, body: { error: error.message, code: error.code } };
    // Storage errors and anything else from the engine: the message may name servers or SQL.
    return { status: 500, body: { error: 'Internal error.', code: error.code } };
  }
  return { status: 500, body: { error: 'Internal error.', code: 'INTERNAL' } };
}
