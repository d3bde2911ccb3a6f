import type { FlowRunControlRecord, Uuid } from './records.js';

/** A queued step taken by one owner. */
export interface TakenStep {
  /** Run id. */
  readonly runId: Uuid;
  /** Flow id of the run. */
  readonly flowId: Uuid;
  /** Step key (runtime key). */
  readonly stepKey: string;
  /** The claim owner it was taken for (fences the start, renewals and the completion). */
  readonly owner: string;
  /** Automatic-retry attempt this row is for (1 = first try). */
  readonly attempt: number;
  /** When the row became due. */
  readonly visibleAt: Date;
  /** The claim's lease expiry. */
  readonly leaseExpiresAt: Date;
  /** The run's control row as read when taken (cancel, deadline, timeout), or null. */
  readonly control: FlowRunControlRecord | null;
  /** True when the transaction that took it also started it (attempt and `Running` row written). */
  readonly started?: boolean;
  /**
   * Id of the job that delivered it, when a job system delivered it (recorded on the attempt and
   * the step row by the start transition).
   */
  readonly jobId?: string;
}
