import { InvalidArgumentError } from '../../errors.js';
import type { StorageCapability } from '../backend.js';
import {
  clampEventLogQuery,
  clampEventPage,
  clampLimit,
  clampRunPage,
  clampWebhookPage,
} from '../support/paging.js';

/**
 * Checks (and, for paging, normalises) the arguments of one store method before the backend
 * sees them. Throws an `InvalidArgumentError`; returns the arguments to pass on.
 */
export type ArgumentRule = (args: readonly unknown[]) => readonly unknown[];

/** The stores of a bundle, by member name. */
export type StoreName = 'flows' | 'runs' | 'outputs' | StorageCapability;

type Record_ = Record<string, unknown> | null | undefined;

/** Rejects a missing or whitespace-only id. */
export function requireId(value: unknown, argument: string): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidArgumentError(argument, 'is required');
  }
}

/** Rejects a lease or window that is not a finite number of milliseconds above zero. */
export function requirePositiveMs(value: unknown, argument: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) {
    throw new InvalidArgumentError(argument, 'must be a positive, finite number of milliseconds');
  }
}

function replaceAt(args: readonly unknown[], index: number, value: unknown): unknown[] {
  const copy = [...args];
  copy[index] = value;
  return copy;
}

function clampRunQuery(args: readonly unknown[]): readonly unknown[] {
  const query = (args[0] as Record_) ?? {};
  const page = clampRunPage(query.skip as number | undefined, query.take as number | undefined);
  return replaceAt(args, 0, { ...query, ...page });
}

const eventRules: Readonly<Record<string, ArgumentRule>> = {
  getRunEvents: (args) => {
    const page = args[1] as { skip?: number; take?: number } | undefined;
    return replaceAt(args, 1, clampEventPage(page?.skip, page?.take));
  },
  readEventLog: (args) => replaceAt(args, 0, clampEventLogQuery((args[0] as Record_) ?? {})),
};

/** The rules per store and method; methods not listed pass their arguments through. */
export const ARGUMENT_RULES: Readonly<Partial<Record<StoreName, Readonly<Record<string, ArgumentRule>>>>> = {
  flows: {
    save: (args) => {
      requireId((args[0] as Record_)?.id, 'definition.id');
      return args;
    },
  },
  runs: {
    startRun: (args) => {
      requireId((args[0] as Record_)?.runId, 'runId');
      return args;
    },
    getRuns: clampRunQuery,
    getRunsPage: clampRunQuery,
  },
  outputs: eventRules,
  events: eventRules,
  runtime: {
    tryClaimStep: (args) => {
      const lease = args[2] as Record_;
      if (lease != null) requirePositiveMs(lease.durationMs, 'lease.durationMs');
      return args;
    },
    renewStepClaim: (args) => {
      requirePositiveMs(args[3], 'durationMs');
      return args;
    },
  },
  queue: {
    startRun: (args) => {
      const input = args[0] as Record_;
      requireId((input?.run as Record_)?.runId, 'run.runId');
      const takeFor = input?.takeFor as Record_;
      if (takeFor != null) requirePositiveMs(takeFor.leaseMs, 'takeFor.leaseMs');
      return args;
    },
    take: (args) => {
      requirePositiveMs((args[0] as Record_)?.leaseMs, 'leaseMs');
      return args;
    },
    takeStep: (args) => {
      requirePositiveMs((args[0] as Record_)?.leaseMs, 'leaseMs');
      return args;
    },
    renew: (args) => {
      requirePositiveMs(args[3], 'leaseMs');
      return args;
    },
  },
  control: {
    getRunsPastDeadline: (args) =>
      replaceAt(args, 0, clampLimit(args[0] as number | undefined, 1, 1000, 100)),
  },
  retention: {
    cleanup: (args) => {
      const options = (args[1] as Record_) ?? {};
      const batchSize = clampLimit(options.batchSize as number | undefined, 1, 100_000, 500);
      return replaceAt(args, 1, { ...options, batchSize });
    },
  },
  webhookRejections: {
    query: (args) => {
      const query = (args[0] as Record_) ?? {};
      const page = clampWebhookPage(query.skip as number | undefined, query.take as number | undefined);
      return replaceAt(args, 0, { ...query, ...page });
    },
  },
};
