import {
  type ClaimLease,
  type ExpiredClaim,
  type FlowRunRuntimeStore,
  parseStepStatus,
  type StepClaimRecord,
  type StepStatus,
} from '@floworch/core/backend';
import { sql } from 'kysely';
import type { SqlLayer } from '../traits.js';
import { toDate, toDateOrNull, toUuid } from '../values.js';

/** Step statuses after which a claim can never be taken over (compared case-insensitively). */
const TERMINAL = ['succeeded', 'failed', 'skipped'];

/**
 * {@link FlowRunRuntimeStore}: step-status reads and claim leases. Claiming a step (insert, or
 * take over a lapsed lease under the row lock) and recording a skipped step (a gap-free attempt
 * number) are locking writes each backend spells itself; everything else is written once here.
 */
export abstract class SqlRuntimeStore implements FlowRunRuntimeStore {
  /** @param layer the dialect's query builder, traits and clock */
  constructor(protected readonly layer: SqlLayer) {}

  async getStepStatuses(runId: string): Promise<Map<string, StepStatus>> {
    const run = this.layer.traits.id(runId, 'runId');
    return this.layer.run('runtime.getStepStatuses', async () => {
      const rows = await this.layer.db
        .selectFrom('flowSteps')
        .select(['stepKey', 'status'])
        .where('runId', '=', run)
        .orderBy('startedAt')
        .execute();
      return new Map(rows.map((r) => [r.stepKey, parseStepStatus(r.status)]));
    });
  }

  async getClaimedStepKeys(runId: string): Promise<string[]> {
    const run = this.layer.traits.id(runId, 'runId');
    return this.layer.run('runtime.getClaimedStepKeys', async () => {
      const rows = await this.layer.db
        .selectFrom('flowStepClaims')
        .select('stepKey')
        .where('runId', '=', run)
        .orderBy('claimedAt')
        .orderBy(this.layer.traits.ordinal('stepKey'))
        .execute();
      return rows.map((r) => r.stepKey);
    });
  }

  async getStepClaim(runId: string, stepKey: string): Promise<StepClaimRecord | null> {
    const { traits } = this.layer;
    const run = traits.id(runId, 'runId');
    const step = traits.key(stepKey, 'stepKey');
    return this.layer.run('runtime.getStepClaim', async () => {
      const row = await this.layer.db
        .selectFrom('flowStepClaims')
        .select(['runId', 'stepKey', 'owner', 'claimedAt', 'leaseExpiresAt'])
        .where('runId', '=', run)
        .where('stepKey', '=', step)
        .executeTakeFirst();
      if (!row) return null;
      return {
        runId: toUuid(row.runId),
        stepKey: row.stepKey,
        owner: row.owner,
        claimedAt: toDate(row.claimedAt),
        leaseExpiresAt: toDateOrNull(row.leaseExpiresAt),
      };
    });
  }

  /** Claims the step (or takes over a lapsed lease of an unfinished step); true when this call won. */
  abstract tryClaimStep(runId: string, stepKey: string, lease?: ClaimLease): Promise<boolean>;

  async renewStepClaim(runId: string, stepKey: string, owner: string, durationMs: number): Promise<boolean> {
    const { db, traits } = this.layer;
    const run = traits.id(runId, 'runId');
    const step = traits.key(stepKey, 'stepKey');
    const expires = traits.instant(new Date(this.layer.now().getTime() + durationMs));
    return this.layer.run('runtime.renewStepClaim', async () => {
      const update = db
        .updateTable('flowStepClaims')
        .set({ leaseExpiresAt: expires })
        .where('runId', '=', run)
        .where('stepKey', '=', step)
        .where('owner', '=', owner);
      const rows = await (traits.dialect === 'mssql'
        ? update.output('inserted.stepKey').execute()
        : update.returning('stepKey').execute());
      return rows.length > 0;
    });
  }

  async releaseStepClaim(runId: string, stepKey: string, owner?: string): Promise<void> {
    const { traits } = this.layer;
    const run = traits.id(runId, 'runId');
    const step = traits.key(stepKey, 'stepKey');
    await this.layer.run('runtime.releaseStepClaim', () => {
      let q = this.layer.db.deleteFrom('flowStepClaims').where('runId', '=', run).where('stepKey', '=', step);
      // With an owner, a stale worker cannot delete its successor's claim.
      if (owner !== undefined) q = q.where('owner', '=', owner);
      return q.execute();
    });
  }

  async getExpiredClaims(limit: number): Promise<ExpiredClaim[]> {
    const max = Number.isFinite(limit) ? Math.max(0, Math.trunc(limit)) : 0;
    if (max === 0) return [];
    const { db, traits } = this.layer;
    const now = traits.instant(this.layer.now());
    return this.layer.run('runtime.getExpiredClaims', async () => {
      const rows = await db
        .selectFrom('flowStepClaims as c')
        .innerJoin('flowRuns as r', 'r.id', 'c.runId')
        .select(['c.runId', 'c.stepKey', 'c.owner', 'c.leaseExpiresAt'])
        .where('r.status', '=', 'Running')
        .where('c.leaseExpiresAt', 'is not', null)
        .where('c.leaseExpiresAt', '<=', now)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('flowSteps as s')
                .select('s.stepKey')
                .whereRef('s.runId', '=', 'c.runId')
                .whereRef('s.stepKey', '=', 'c.stepKey')
                .where(sql`lower(${sql.ref('s.status')})`, 'in', TERMINAL),
            ),
          ),
        )
        .orderBy('c.leaseExpiresAt')
        .orderBy(traits.ordinalId('c.runId'))
        .orderBy(traits.ordinal('c.stepKey'))
        .offset(0)
        .fetch(max)
        .execute();
      return rows.map((r) => ({
        runId: toUuid(r.runId),
        stepKey: r.stepKey,
        owner: r.owner,
        leaseExpiresAt: toDate(r.leaseExpiresAt),
      }));
    });
  }

  /** Records `stepKey` as skipped: a new attempt and the step row, written together. */
  abstract recordSkippedStep(
    runId: string,
    stepKey: string,
    stepType: string,
    reason?: string | null,
    evaluationTraceJson?: string | null,
  ): Promise<void>;

  async getRunStatus(runId: string): Promise<string | null> {
    const run = this.layer.traits.id(runId, 'runId');
    return this.layer.run('runtime.getRunStatus', async () => {
      const row = await this.layer.db
        .selectFrom('flowRuns')
        .select('status')
        .where('id', '=', run)
        .executeTakeFirst();
      return row?.status ?? null;
    });
  }
}
