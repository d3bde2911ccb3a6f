import { InvalidArgumentError } from '../errors.js';
import { toFlowId } from '../ids.js';
import type { FlowRunStore, RunQuery } from '../storage/run-store.js';
import { RUN_STATUSES } from '../storage/statuses.js';
import type { RunListQuery, RunPage } from './types.js';
import { toRunSummary } from './views.js';

const DEFAULT_TAKE = 50;
const MAX_TAKE = 500;

function validDate(value: Date | undefined, argument: string): number | null {
  if (value === undefined) return null;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new InvalidArgumentError(argument, 'must be a valid Date');
  }
  return value.getTime();
}

/**
 * The first offset in the store's newest-first order whose run started before `instant`
 * (`total` when none did). Binary search over single-row pages: O(log n) reads.
 */
async function firstStartedBefore(runs: FlowRunStore, base: RunQuery, total: number, instant: number) {
  let lo = 0;
  let hi = total;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const page = await runs.getRunsPage({ ...base, skip: mid, take: 1 });
    const run = page.runs[0];
    if (!run) {
      hi = mid;
    } else if (run.startedAt.getTime() < instant) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

/**
 * Lists runs newest first. Flow, status and search filter in the store; the time range is applied
 * over the store's newest-first order (a binary search for the window's two ends), so it works
 * on every backend without a contract change.
 */
export async function listRuns(runs: FlowRunStore, query: RunListQuery = {}): Promise<RunPage> {
  const skip = Math.max(0, Math.trunc(query.skip ?? 0));
  const take = Math.min(MAX_TAKE, Math.max(0, Math.trunc(query.take ?? DEFAULT_TAKE)));
  if (
    query.status !== undefined &&
    !RUN_STATUSES.some((s) => s.toLowerCase() === query.status!.toLowerCase())
  ) {
    throw new InvalidArgumentError(
      'status',
      `'${query.status}' is not a run status (${RUN_STATUSES.join(', ')})`,
    );
  }
  const since = validDate(query.since, 'since');
  const until = validDate(query.until, 'until');
  const base: RunQuery = {
    ...(query.flowId !== undefined && { flowId: toFlowId(query.flowId) }),
    ...(query.status !== undefined && { status: query.status }),
    ...(query.search !== undefined && { search: query.search }),
  };
  if (since === null && until === null) {
    const page = await runs.getRunsPage({ ...base, skip, take });
    return { runs: page.runs.map(toRunSummary), total: page.totalCount, skip, take };
  }
  const { totalCount } = await runs.getRunsPage({ ...base, take: 0 });
  const start = until === null ? 0 : await firstStartedBefore(runs, base, totalCount, until);
  const end = since === null ? totalCount : await firstStartedBefore(runs, base, totalCount, since);
  const total = Math.max(0, end - start);
  const count = Math.min(take, Math.max(0, total - skip));
  if (count === 0) return { runs: [], total, skip, take };
  const page = await runs.getRunsPage({ ...base, skip: start + skip, take: count });
  return { runs: page.runs.map(toRunSummary), total, skip, take };
}
