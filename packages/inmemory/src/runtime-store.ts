import {
  type Clock,
  type ExpiredClaim,
  type FlowRunRuntimeStore,
  isTerminalStepStatus,
  type StepClaimRecord,
  type StepStatus,
} from '@floworch/core';
import { type ClaimLease, parseStepStatus } from '@floworch/core/backend';
import { toDate, toDateOrNull } from './copy.js';
import { compareOrdinal } from './order.js';
import { appendSkippedAttempt } from './run-store.js';
import type { MemoryState } from './state.js';

/** In-memory {@link FlowRunRuntimeStore}: step statuses, claim leases and skip records. */
export class InMemoryRuntimeStore implements FlowRunRuntimeStore {
  /** @param state shared data @param clock time source */
  constructor(
    private readonly state: MemoryState,
    private readonly clock: Clock,
  ) {}

  async getStepStatuses(runId: string): Promise<Map<string, StepStatus>> {
    const data = this.state.peekRunData(runId);
    const out = new Map<string, StepStatus>();
    for (const step of data?.steps.values() ?? []) out.set(step.stepKey, parseStepStatus(step.status));
    return out;
  }

  async getClaimedStepKeys(runId: string): Promise<string[]> {
    return [...(this.state.peekRunData(runId)?.claims.keys() ?? [])];
  }

  async getStepClaim(runId: string, stepKey: string): Promise<StepClaimRecord | null> {
    const claim = this.state.peekRunData(runId)?.claims.get(stepKey);
    if (!claim) return null;
    return {
      runId: runId.toLowerCase(),
      stepKey,
      owner: claim.owner,
      claimedAt: toDate(claim.claimedAt),
      leaseExpiresAt: toDateOrNull(claim.leaseExpiresAt),
    };
  }

  async tryClaimStep(runId: string, stepKey: string, lease?: ClaimLease): Promise<boolean> {
    // Check and set happen in one synchronous stretch: JS runs it without interleaving.
    const data = this.state.runData(runId);
    const now = this.clock.now().getTime();
    const existing = data.claims.get(stepKey);
    if (existing) {
      const lapsed = existing.leaseExpiresAt !== null && existing.leaseExpiresAt <= now;
      const step = data.steps.get(stepKey);
      if (!lapsed || (step && isTerminalStepStatus(step.status))) return false;
    }
    data.claims.set(stepKey, {
      owner: lease?.owner ?? '',
      claimedAt: now,
      leaseExpiresAt: lease ? now + lease.durationMs : null,
    });
    return true;
  }

  async renewStepClaim(runId: string, stepKey: string, owner: string, durationMs: number): Promise<boolean> {
    const claim = this.state.peekRunData(runId)?.claims.get(stepKey);
    if (!claim || claim.owner !== owner) return false;
    claim.leaseExpiresAt = this.clock.now().getTime() + durationMs;
    return true;
  }

  async releaseStepClaim(runId: string, stepKey: string, owner?: string): Promise<void> {
    const data = this.state.peekRunData(runId);
    const claim = data?.claims.get(stepKey);
    if (!claim) return;
    if (owner !== undefined && claim.owner !== owner) return;
    data!.claims.delete(stepKey);
  }

  async getExpiredClaims(limit: number): Promise<ExpiredClaim[]> {
    const now = this.clock.now().getTime();
    const found: ExpiredClaim[] = [];
    // Only Running runs can have claims worth taking over, so scan the active-run index.
    for (const runId of this.state.active) {
      const data = this.state.peekRunData(runId);
      if (!data) continue;
      for (const [stepKey, claim] of data.claims) {
        if (claim.leaseExpiresAt === null || claim.leaseExpiresAt > now) continue;
        const step = data.steps.get(stepKey);
        if (step && isTerminalStepStatus(step.status)) continue;
        found.push({ runId, stepKey, owner: claim.owner, leaseExpiresAt: toDate(claim.leaseExpiresAt) });
      }
    }
    // Oldest expiry first; ties by run id, then step key (ordinal), so every backend lists alike.
    found.sort(
      (a, b) =>
        a.leaseExpiresAt.getTime() - b.leaseExpiresAt.getTime() ||
        compareOrdinal(a.runId, b.runId) ||
        compareOrdinal(a.stepKey, b.stepKey),
    );
    return found.slice(0, Math.max(0, Math.trunc(limit)));
  }

  async recordSkippedStep(
    runId: string,
    stepKey: string,
    stepType: string,
    reason?: string | null,
    evaluationTraceJson?: string | null,
  ): Promise<void> {
    appendSkippedAttempt(
      this.state.runData(runId),
      stepKey,
      {
        stepType,
        reason: reason ?? null,
        traceJson: evaluationTraceJson?.trim() ? evaluationTraceJson : null,
      },
      this.clock.now().getTime(),
    );
  }

  async getRunStatus(runId: string): Promise<string | null> {
    return this.state.runs.get(runId.toLowerCase())?.status ?? null;
  }
}
