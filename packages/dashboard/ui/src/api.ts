// The dashboard's REST API, as the UI uses it. Shapes mirror the server's JSON (dates are ISO text).

/** Where the dashboard is mounted (from the page's meta tag). */
export const BASE = document.querySelector<HTMLMetaElement>('meta[name="floworch-base"]')?.content ?? '';

/** An API error with the server's reason. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const response = await fetch(`${BASE}/api${path}`, init);
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const error = json as { error?: string; code?: string } | null;
    throw new ApiError(
      response.status,
      error?.code ?? 'HTTP',
      error?.error ?? `Request failed (${response.status}).`,
    );
  }
  return json as T;
}

export const api = {
  get: <T>(path: string) => call<T>('GET', path),
  post: <T>(path: string, body?: unknown) => call<T>('POST', path, body ?? {}),
  put: <T>(path: string, body?: unknown) => call<T>('PUT', path, body ?? {}),
};

/** Path segment escaping. */
export const seg = (value: string): string => encodeURIComponent(value);

export type RunStatus = 'Running' | 'Succeeded' | 'Failed' | 'Skipped' | 'Cancelled' | 'TimedOut';
export const RUN_STATUSES: RunStatus[] = [
  'Running',
  'Succeeded',
  'Failed',
  'Skipped',
  'Cancelled',
  'TimedOut',
];

export interface RunSummary {
  id: string;
  flowId: string;
  flowName: string | null;
  status: RunStatus;
  triggerKey: string | null;
  triggerData: unknown;
  jobId: string | null;
  startedAt: string;
  completedAt: string | null;
  sourceRunId: string | null;
}
export interface Attempt {
  attempt: number;
  status: string;
  input: unknown;
  output: unknown;
  error: string | null;
  startedAt: string;
  completedAt: string | null;
  /** The job that delivered this attempt (BullMQ runtime), or null. */
  jobId?: string | null;
}
export interface Step {
  key: string;
  type: string;
  status: string;
  input: unknown;
  output: unknown;
  error: string | null;
  evaluationTrace: unknown;
  startedAt: string;
  completedAt: string | null;
  /** The job that delivered the latest attempt (BullMQ runtime), or null. */
  jobId?: string | null;
  attempts: Attempt[];
}
export interface RunEvent {
  sequence: number;
  timestamp: string;
  type: string;
  stepKey: string | null;
  message: string | null;
}
export interface RunDetail extends RunSummary {
  triggerHeaders: Record<string, string> | null;
  steps: Step[];
  outputs: Record<string, unknown>;
  events: RunEvent[];
}
export interface RunPage {
  runs: RunSummary[];
  total: number;
  skip: number;
  take: number;
}
export interface Stats {
  totalFlows: number;
  activeRuns: number;
  completedToday: number;
  failedToday: number;
}
export interface Bucket {
  timestamp: string;
  total: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  timedOut: number;
  skipped: number;
  running: number;
  p50DurationMs: number | null;
  p95DurationMs: number | null;
}
export interface TriggerSummary {
  key: string;
  type: string;
  cron?: string;
  timezone?: string;
  webhookSlug?: string;
}
export interface ManifestStep {
  type: string;
  runAfter: Record<string, { statuses?: string[]; when?: string }>;
  inputs: Record<string, unknown>;
  steps?: Record<string, ManifestStep>;
}
export interface FlowSummary {
  id: string;
  name: string;
  version: string;
  isEnabled: boolean;
  createdAt: string | null;
  updatedAt: string | null;
  triggers: TriggerSummary[];
  stepCount: number;
}
export interface FlowDetail extends FlowSummary {
  manifest: {
    triggers: Record<string, { type: string; inputs: Record<string, unknown> }>;
    steps: Record<string, ManifestStep>;
  };
}
export interface Schedule {
  jobId: string;
  flowId: string;
  flowName: string;
  triggerKey: string;
  cron: string;
  manifestCron: string;
  cronOverride: string | null;
  timezone: string;
  isPaused: boolean;
}
export interface Delivery {
  id: number;
  flowId: string | null;
  triggerKey: string | null;
  receivedAt: string;
  remoteIp: string | null;
  reason: string;
  statusCode: number;
  bodyBytes: number;
  bodyExcerpt: string | null;
  headers: Record<string, string> | null;
  scheme: string | null;
  processingMs: number | null;
  accepted: boolean;
}
export interface DeliveryPage {
  items: Delivery[];
  total: number;
  skip: number;
  take: number;
}
export interface WebhookStats {
  windowMs: number;
  rejectedByReason: Record<string, number>;
  rejectedInWindow: number;
  acceptedTotal: number;
  rejectedTotal: number;
}
export interface Lineage {
  run: RunSummary;
  ancestors: RunSummary[];
  derived: RunSummary[];
}
export interface LiveEvent extends RunEvent {
  runId: string;
}
