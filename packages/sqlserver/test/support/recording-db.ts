import { type Clock, ManualClock } from '@floworch/core';
import {
  type DatabaseConnection,
  type Driver,
  Kysely,
  MssqlAdapter,
  MssqlIntrospector,
  MssqlQueryCompiler,
  type QueryResult,
} from 'kysely';
import type { SqlContext } from '../../src/sql/context.js';
import { SqlNames } from '../../src/sql/names.js';

/** One statement as kysely compiled it for SQL Server. */
export interface Recorded {
  readonly sql: string;
  readonly parameters: readonly unknown[];
}

/** Answers a statement with rows, or throws the returned error. */
export type Responder = (statement: Recorded) => readonly unknown[] | Error;

/** The clock every statement test starts from. */
export const T0 = new Date('2031-03-04T10:17:23.456Z');
export const RUN = '6f1d2c3b-4a59-4e7f-8a1b-2c3d4e5f6a7b';
export const FLOW = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

/**
 * A row with every column any mapper of the backend reads, so each store method can run to the
 * end against the recording driver. Counters are chosen so that paging issues its page query and
 * retention stops after one batch.
 */
export const UNIVERSAL_ROW: Record<string, unknown> = {
  Id: '6F1D2C3B-4A59-4E7F-8A1B-2C3D4E5F6A7B',
  RunId: '6F1D2C3B-4A59-4E7F-8A1B-2C3D4E5F6A7B',
  FlowId: '0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D',
  SourceRunId: null,
  Name: 'flow',
  Version: '1.0',
  ManifestJson: null,
  IsEnabled: true,
  CreatedAt: T0,
  UpdatedAt: T0,
  FlowName: 'flow',
  Status: 'Running',
  TriggerKey: 'manual',
  TriggerDataJson: null,
  BackgroundJobId: null,
  StartedAt: T0,
  CompletedAt: null,
  StepKey: 's',
  AttemptNo: 1,
  StepType: 'Work',
  InputJson: null,
  OutputJson: null,
  ErrorMessage: null,
  JobId: null,
  EvaluationTraceJson: null,
  ValueJson: '{"a":1}',
  Owner: 'w1',
  ClaimedAt: T0,
  LeaseExpiresAt: T0,
  IdempotencyKey: null,
  TimeoutAtUtc: T0,
  CancelRequested: false,
  CancelReason: null,
  CancelRequestedAtUtc: null,
  TimedOutAtUtc: null,
  Sequence: '7',
  Timestamp: T0,
  Type: 'step.started',
  Message: null,
  SignalName: 'go',
  ExpiresAt: null,
  DeliveredAt: T0,
  PayloadJson: '{}',
  JobIdKey: 'job',
  IsPaused: false,
  CronOverride: null,
  UpdatedAtUtc: T0,
  ReceivedAt: T0,
  RemoteIp: '10.0.0.1',
  Reason: 'nonce_seen',
  StatusCode: 409,
  BodyBytes: 10,
  BodyTruncated: null,
  HeadersJson: null,
  Scheme: null,
  ProcessingMs: 1.5,
  IsAccepted: false,
  ok: 1,
  won: 1,
  changed: 1,
  total: '3',
  deleted: 0,
  status: 'Delivered',
  reason: 'nonce_seen',
  n: '2',
  totalFlows: '1',
  activeRuns: '1',
  completedToday: '0',
  failedToday: '0',
  v: null,
  VisibleAt: T0,
  Attempt: 1,
  Held: 1,
  Released: 1,
  Duplicate: 0,
};

/** A lease end 30 s after {@link T0}. */
export const T0_LEASE = new Date(T0.getTime() + 30_000);

/**
 * The rows a run transaction's snapshot batch reads for {@link RUN}: the run (`Running`), steps
 * `s` (`Running`, queued, claimed by `w1`) and `t` (`Pending`, queued, unclaimed), and a control row.
 */
export const SNAPSHOT_ROWS: readonly Record<string, unknown>[] = [
  { Kind: 'run', FlowId: UNIVERSAL_ROW.FlowId, Status: 'Running' },
  { Kind: 'step', StepKey: 's', Status: 'Running' },
  { Kind: 'step', StepKey: 't', Status: 'Pending' },
  { Kind: 'queue', StepKey: 's', Attempt: 1, VisibleAt: T0_LEASE },
  { Kind: 'queue', StepKey: 't', Attempt: 2, VisibleAt: T0 },
  { Kind: 'claim', StepKey: 's', Owner: 'w1', LeaseExpiresAt: T0_LEASE },
  {
    Kind: 'control',
    CtlRunId: UNIVERSAL_ROW.RunId,
    CtlFlowId: UNIVERSAL_ROW.FlowId,
    CtlTriggerKey: 'manual',
    CtlIdempotencyKey: null,
    CtlCreatedAt: T0,
    CtlTimeoutAtUtc: null,
    CtlCancelRequested: false,
    CtlCancelReason: null,
    CtlCancelRequestedAtUtc: null,
    CtlTimedOutAtUtc: null,
  },
];

/** The default answer: snapshot rows for a run transaction's snapshot batch, else one universal row. */
export const defaultResponder: Responder = (statement) =>
  statement.sql.includes('AS [Kind]') ? SNAPSHOT_ROWS : [UNIVERSAL_ROW];

/**
 * A kysely instance over the real MSSQL adapter and query compiler with a driver that records
 * every compiled statement instead of sending it, and answers from `responder`.
 */
export function recordingDb(responder: Responder = defaultResponder): {
  db: Kysely<unknown>;
  log: Recorded[];
} {
  const log: Recorded[] = [];
  const connection: DatabaseConnection = {
    async executeQuery<R>(compiled: {
      sql: string;
      parameters: readonly unknown[];
    }): Promise<QueryResult<R>> {
      const statement = { sql: compiled.sql, parameters: compiled.parameters };
      log.push(statement);
      const answer = responder(statement);
      if (answer instanceof Error) throw answer;
      return { rows: answer as R[] };
    },
    // biome-ignore lint/correctness/useYield: never called; the backend does not stream.
    async *streamQuery() {
      throw new Error('streaming is not used by the backend');
    },
  };
  const mark = (sql: string) => async () => {
    log.push({ sql, parameters: [] });
  };
  const driver: Driver = {
    init: async () => {},
    acquireConnection: async () => connection,
    beginTransaction: mark('<driver: begin transaction>'),
    commitTransaction: mark('<driver: commit>'),
    rollbackTransaction: mark('<driver: rollback>'),
    releaseConnection: async () => {},
    destroy: async () => {},
  };
  const db = new Kysely<unknown>({
    dialect: {
      createAdapter: () => new MssqlAdapter(),
      createDriver: () => driver,
      createIntrospector: (k) => new MssqlIntrospector(k),
      createQueryCompiler: () => new MssqlQueryCompiler(),
    },
  });
  return { db, log };
}

/** A store context over a recording driver. */
export function recordingContext(
  responder?: Responder,
  clock: Clock = new ManualClock(T0),
): SqlContext & { log: Recorded[] } {
  const { db, log } = recordingDb(responder);
  return { db, n: new SqlNames('floworch'), clock, log };
}

/** A tedious-shaped request error carrying a SQL Server error number. */
export function sqlError(number: number, message = `SQL error ${number}`): Error {
  return Object.assign(new Error(message), { number });
}
