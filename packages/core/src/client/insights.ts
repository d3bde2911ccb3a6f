import type { EngineEventBus } from '../engine/events.js';
import { isForEachStep, loopChildren, toManifest } from '../engine/model/index.js';
import { CapabilityMissingError, InvalidArgumentError, RunNotFoundError } from '../errors.js';
import { toFlowId, toRunId } from '../ids.js';
import type { Logger } from '../logging/index.js';
import type { FlowDefinition, StepDefinition } from '../model/types.js';
import { type CronTriggerDeclaration, cronTriggersOf } from '../services/cron/job-id.js';
import { checkStorageHealth } from '../services/health/storage-health.js';
import { toMermaid } from '../services/mermaid/to-mermaid.js';
import type { FlowStorage } from '../storage/backend.js';
import type { FlowDefinitionRecord, FlowRunRecord, WebhookRejectionRecord } from '../storage/records.js';
import type { TimeseriesGranularity } from '../storage/statuses.js';
import { clampWebhookPage } from '../storage/support/paging.js';
import type { FlowCatalog } from './flows.js';
import type {
  FlowClient,
  FlowView,
  RunSummary,
  StepTypeView,
  TriggeredRun,
  WebhookDeliveryView,
} from './types.js';
import { parseJson, toEventView, toRunSummary } from './views.js';

type InsightMethods = Pick<
  FlowClient,
  | 'listFlows'
  | 'getFlow'
  | 'getFlowMermaid'
  | 'listStepTypes'
  | 'triggerSchedule'
  | 'getRunStatistics'
  | 'getRunTimeseries'
  | 'listActiveRuns'
  | 'getRunControl'
  | 'getRunLineage'
  | 'listWebhookDeliveries'
  | 'getWebhookStats'
  | 'readEventLog'
  | 'lastEventSequence'
  | 'onEventsAppended'
  | 'checkHealth'
>;

/** What the read and operate helpers need from the client they are part of. */
export interface InsightDeps {
  readonly storage: FlowStorage;
  readonly catalog: FlowCatalog;
  readonly bus: EngineEventBus;
  readonly logger: Logger;
  /** Registered handler type names (an orchestrator's client), or undefined (executes nothing). */
  readonly handlerTypes?: () => readonly string[];
  /** Starts a run (the client's own trigger path). */
  readonly start: (flowId: string, request: { triggerKey: string; jobId: string }) => Promise<TriggeredRun>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const MAX_ANCESTORS = 50;

function validDate(value: Date | undefined, argument: string): Date | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new InvalidArgumentError(argument, 'must be a valid Date');
  }
  return value;
}

/** Every step type of a flow, ForEach children included. */
function stepTypes(steps: Readonly<Record<string, StepDefinition>>, into: Set<string>): Set<string> {
  for (const step of Object.values(steps)) {
    if (typeof step.type === 'string' && step.type) into.add(step.type);
    if (isForEachStep(step)) stepTypes(loopChildren(step), into);
  }
  return into;
}

function flowView(flow: FlowDefinition, record: FlowDefinitionRecord | null): FlowView {
  return {
    id: flow.id,
    name: flow.name,
    version: record?.version ?? flow.version ?? '1.0',
    isEnabled: record?.isEnabled ?? true,
    createdAt: record?.createdAt ?? null,
    updatedAt: record?.updatedAt ?? null,
    manifest: toManifest(flow),
  };
}

function deliveryView(row: WebhookRejectionRecord): WebhookDeliveryView {
  const headers = parseJson(row.headersJson);
  return {
    id: row.id,
    flowId: row.flowId,
    triggerKey: row.triggerKey,
    receivedAt: row.receivedAt,
    remoteIp: row.remoteIp,
    reason: row.reason,
    statusCode: row.statusCode,
    bodyBytes: row.bodyBytes,
    bodyExcerpt: row.bodyTruncated,
    headers:
      headers && typeof headers === 'object' && !Array.isArray(headers)
        ? (headers as Record<string, string>)
        : null,
    scheme: row.scheme,
    processingMs: row.processingMs,
    accepted: row.isAccepted,
  };
}

/**
 * One shared subscription to the backend's "events appended" notifications, open while at least
 * one listener is registered (a LISTEN connection on PostgreSQL).
 */
class EventWakeups {
  private readonly listeners = new Set<() => void>();
  private subscription: Promise<(() => Promise<void>) | undefined> | undefined;

  constructor(
    private readonly storage: FlowStorage,
    private readonly logger: Logger,
  ) {}

  add(listener: () => void): () => void {
    this.listeners.add(listener);
    const listen = this.storage.events?.listen;
    if (listen && !this.subscription) {
      this.subscription = listen
        .call(this.storage.events, () => {
          for (const wake of this.listeners) wake();
        })
        .catch((error: unknown) => {
          this.logger.warn('event log: could not listen for notifications; polling only', { error });
          return undefined;
        });
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size > 0 || !this.subscription) return;
      const closing = this.subscription;
      this.subscription = undefined;
      void closing.then((unlisten) => unlisten?.()).catch(() => undefined);
    };
  }
}

/**
 * The client's views over flows, statistics, schedules, webhook deliveries, the event log and
 * health. Reads only, except `triggerSchedule`.
 */
export function insightMethods(deps: InsightDeps): InsightMethods {
  const { storage, catalog } = deps;
  const wakeups = new EventWakeups(storage, deps.logger);

  const readRun = async (runId: string): Promise<FlowRunRecord> => {
    const run = await storage.runs.getRunDetail(runId);
    if (!run) throw new RunNotFoundError(runId);
    return run;
  };

  const rejections = () => {
    if (!storage.webhookRejections) throw new CapabilityMissingError('webhookRejections', storage.name);
    return storage.webhookRejections;
  };

  const eventLog = () => {
    const events = storage.events;
    if (!events?.readEventLog || !events.lastEventSequence) {
      throw new CapabilityMissingError('events.readEventLog', storage.name);
    }
    return events as typeof events & Required<Pick<typeof events, 'readEventLog' | 'lastEventSequence'>>;
  };

  const cronDeclaration = async (flowId: string, triggerKey: string): Promise<CronTriggerDeclaration> => {
    const flow = await catalog.get(toFlowId(flowId));
    const found = cronTriggersOf([flow]).find((d) => d.triggerKey === triggerKey);
    if (!found) {
      throw new InvalidArgumentError('triggerKey', `flow '${flow.name}' has no cron trigger '${triggerKey}'`);
    }
    return found;
  };

  return {
    async listFlows() {
      const flows = await catalog.all();
      const records = new Map((await storage.flows.getAll()).map((r) => [r.id, r]));
      return flows
        .map((flow) => flowView(flow, records.get(flow.id) ?? null))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1));
    },

    async getFlow(flowId) {
      const flow = await catalog.get(toFlowId(flowId));
      return flowView(flow, await storage.flows.getById(flow.id));
    },

    async getFlowMermaid(flowId, options) {
      return toMermaid(await catalog.get(toFlowId(flowId)), options);
    },

    async listStepTypes() {
      const registered = deps.handlerTypes?.();
      const known = registered ? new Set(registered.map((t) => t.toLowerCase())) : null;
      const byType = new Map<string, { type: string; flowIds: Set<string> }>();
      for (const flow of await catalog.all()) {
        for (const type of stepTypes(flow.steps, new Set())) {
          const entry = byType.get(type.toLowerCase()) ?? { type, flowIds: new Set<string>() };
          entry.flowIds.add(flow.id);
          byType.set(type.toLowerCase(), entry);
        }
      }
      for (const type of registered ?? []) {
        if (!byType.has(type.toLowerCase())) byType.set(type.toLowerCase(), { type, flowIds: new Set() });
      }
      const views: StepTypeView[] = [...byType.values()].map((e) => ({
        type: e.type,
        flowIds: [...e.flowIds],
        registered: known ? known.has(e.type.toLowerCase()) : null,
      }));
      return views.sort((a, b) => a.type.localeCompare(b.type));
    },

    async triggerSchedule(flowId, triggerKey) {
      const d = await cronDeclaration(flowId, triggerKey);
      return deps.start(d.flow.id, { triggerKey: d.triggerKey, jobId: d.jobId });
    },

    getRunStatistics: () => storage.runs.getStatistics(),

    async getRunTimeseries(options = {}) {
      const granularity: TimeseriesGranularity = options.granularity ?? 'Hour';
      if (granularity !== 'Hour' && granularity !== 'Day') {
        throw new InvalidArgumentError(
          'granularity',
          `must be 'Hour' or 'Day', got '${String(granularity)}'`,
        );
      }
      const until = validDate(options.until, 'until') ?? storage.clock.now();
      const since =
        validDate(options.since, 'since') ??
        new Date(until.getTime() - (granularity === 'Day' ? 30 * DAY_MS : 24 * HOUR_MS));
      if (since.getTime() >= until.getTime()) throw new InvalidArgumentError('since', 'must be before until');
      return storage.runs.getRunTimeseries({
        granularity,
        since,
        until,
        ...(options.flowId !== undefined && { flowId: toFlowId(options.flowId) }),
      });
    },

    async listActiveRuns(limit = 100) {
      const bounded = Math.min(1_000, Math.max(1, Math.trunc(Number.isFinite(limit) ? limit : 100)));
      return (await storage.runs.getActiveRuns(bounded)).map(toRunSummary);
    },

    async getRunControl(runId) {
      const id = toRunId(runId);
      await readRun(id);
      const control = await storage.control?.getRunControl(id);
      if (!control) return null;
      return {
        runId: id,
        timeoutAt: control.timeoutAt,
        cancelRequested: control.cancelRequested,
        cancelReason: control.cancelReason,
        cancelRequestedAt: control.cancelRequestedAt,
        timedOutAt: control.timedOutAt,
        idempotencyKey: control.idempotencyKey,
      };
    },

    async getRunLineage(runId) {
      const id = toRunId(runId);
      const run = await readRun(id);
      const ancestors: RunSummary[] = [];
      const seen = new Set([id]);
      let source = run.sourceRunId;
      while (source && !seen.has(source) && ancestors.length < MAX_ANCESTORS) {
        seen.add(source);
        const parent = await storage.runs.getRunDetail(source);
        if (!parent) break;
        ancestors.push(toRunSummary(parent));
        source = parent.sourceRunId;
      }
      const derived = (await storage.runs.getDerivedRuns(id)).map(toRunSummary);
      return { run: toRunSummary(run), ancestors, derived };
    },

    async listWebhookDeliveries(query = {}) {
      const { skip, take } = clampWebhookPage(query.skip, query.take);
      const page = await rejections().query({
        ...(query.flowId !== undefined && { flowId: toFlowId(query.flowId) }),
        ...(query.reason !== undefined && { reason: query.reason }),
        ...(query.search !== undefined && { search: query.search }),
        includeAccepted: query.accepted ?? true,
        includeRejected: query.rejected ?? true,
        skip,
        take,
      });
      return { items: page.items.map(deliveryView), total: page.total, skip, take };
    },

    async getWebhookStats(options = {}) {
      const windowMs = options.windowMs ?? DAY_MS;
      if (!Number.isFinite(windowMs) || windowMs <= 0) {
        throw new InvalidArgumentError('windowMs', 'must be a positive number of milliseconds');
      }
      const store = rejections();
      const rejectedByReason = await store.countsByReason(windowMs);
      const accepted = await store.query({ includeAccepted: true, includeRejected: false, take: 1 });
      const rejected = await store.query({ includeAccepted: false, includeRejected: true, take: 1 });
      return {
        windowMs,
        rejectedByReason,
        rejectedInWindow: Object.values(rejectedByReason).reduce((sum, n) => sum + n, 0),
        acceptedTotal: accepted.total,
        rejectedTotal: rejected.total,
      };
    },

    async readEventLog(query = {}) {
      const events = await eventLog().readEventLog(query);
      return events.map((e) => ({ ...toEventView(e), runId: e.runId }));
    },

    lastEventSequence: () => eventLog().lastEventSequence(),

    onEventsAppended(listener) {
      const unsubscribe = deps.bus.subscribe(() => listener());
      const stopWakeups = wakeups.add(listener);
      return () => {
        unsubscribe();
        stopWakeups();
      };
    },

    async checkHealth(options = {}) {
      const probe = await checkStorageHealth(
        storage,
        options.timeoutMs ? { timeoutMs: options.timeoutMs } : {},
      );
      let schema = null;
      if (probe.status === 'healthy' && storage.schemaStatus) {
        try {
          schema = await storage.schemaStatus();
        } catch (error) {
          return {
            status: 'unhealthy',
            storage: {
              ...probe,
              status: 'unhealthy',
              error: `Schema check failed: ${(error as Error).message}`,
            },
            schema: null,
          };
        }
      }
      const healthy = probe.status === 'healthy' && (schema?.upToDate ?? true);
      return { status: healthy ? 'healthy' : 'unhealthy', storage: probe, schema };
    },
  };
}
