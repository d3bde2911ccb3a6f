import type { FlowRunRecord } from '@floworch/core';

/** A run's steps as a text timeline: offset from the run start, status, attempts, reason. */
export function formatTimeline(run: FlowRunRecord): string {
  const start = run.startedAt.getTime();
  const lines = [`run ${run.id}  ${run.status}`];
  for (const step of run.steps ?? []) {
    const from = step.attempts[0]?.startedAt.getTime() ?? step.startedAt.getTime();
    const to = step.completedAt?.getTime();
    const span = `+${String(from - start).padStart(5)} ms${to ? ` → +${String(to - start).padStart(5)} ms` : '             '}`;
    const attempts = step.attemptCount > 1 ? `  (${step.attemptCount} attempts)` : '';
    const note = step.status === 'Skipped' && step.errorMessage ? `  ${step.errorMessage}` : '';
    lines.push(`  ${span}  ${step.status.padEnd(9)} ${step.stepKey}${attempts}${note}`);
  }
  return lines.join('\n');
}
