import fs from 'node:fs';
import path from 'node:path';
import type { MachineInfo } from './machine.js';
import { round } from './stats.js';

/** One measured row: a workload on one backend at one concurrency. */
export interface BenchRow {
  readonly workload: string;
  readonly backend: string;
  readonly concurrency: number;
  readonly runs: number;
  readonly stepsPerSec: number;
  readonly runsPerSec: number;
  readonly handoffP50Ms?: number;
  readonly handoffP95Ms?: number;
  readonly handoffP99Ms?: number;
  readonly commitsPerStep?: number;
  /** Statements sent per step (client-side count; each autocommit statement is one transaction). */
  readonly queriesPerStep?: number;
  /** CPU time of this Node process per step (user + system, ms), over the measured runs. */
  readonly cpuMsPerStep?: number;
  readonly peakRssMiB?: number;
  readonly heapAfterGcMiB?: number;
  readonly repetitions: number;
  /** Runs that did not end Succeeded (should be 0). */
  readonly failedRuns?: number;
  /** Workload-specific numbers (event-based hand-off, soak checkpoints, per-repetition values). */
  readonly extra?: Readonly<Record<string, number | string | readonly number[]>>;
}

/** A target and whether the measurement met it. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

/** Everything one `pnpm bench` invocation produced. */
export interface BenchReport {
  readonly startedAt: string;
  readonly mode: 'full' | 'quick';
  readonly machine: MachineInfo;
  /** Where PostgreSQL came from and how the run was configured. */
  readonly conditions: Readonly<Record<string, string | number>>;
  readonly rows: readonly BenchRow[];
  readonly targets: readonly TargetCheck[];
  readonly notes: readonly string[];
  /** Extra markdown sections (soak detail). */
  readonly sections?: readonly string[];
}

const fmt = (v: number | undefined, digits = 1) =>
  v === undefined || !Number.isFinite(v) ? '–' : String(round(v, digits));

/** The markdown table a person reads. */
export function toMarkdown(report: BenchReport): string {
  const lines = [
    `# @floworch benchmark (${report.mode}) — ${report.startedAt}`,
    '',
    `Machine: ${report.machine.cpus} × ${report.machine.cpuModel}, ${report.machine.memoryGiB} GiB, Node ${report.machine.node}, ${report.machine.platform}`,
    report.machine.postgres
      ? `PostgreSQL: ${Object.entries(report.machine.postgres)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`
      : 'PostgreSQL: not measured',
    `Conditions: ${Object.entries(report.conditions)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
    '',
    '| workload | backend | conc. | runs | steps/s | runs/s | hand-off p50 / p95 / p99 ms | commits/step | queries/step | Node CPU ms/step | peak RSS MiB | heap after GC MiB | reps |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...report.rows.map(
      (r) =>
        `| ${r.workload} | ${r.backend} | ${r.concurrency} | ${r.runs} | ${fmt(r.stepsPerSec, 0)} | ${fmt(r.runsPerSec, 0)} | ${r.handoffP50Ms === undefined ? '–' : `${fmt(r.handoffP50Ms, 2)} / ${fmt(r.handoffP95Ms, 2)} / ${fmt(r.handoffP99Ms, 2)}`} | ${fmt(r.commitsPerStep, 2)} | ${fmt(r.queriesPerStep, 1)} | ${fmt(r.cpuMsPerStep, 3)} | ${fmt(r.peakRssMiB)} | ${fmt(r.heapAfterGcMiB)} | ${r.repetitions}${r.failedRuns ? ` (${r.failedRuns} runs failed)` : ''} |`,
    ),
    '',
  ];
  if (report.targets.length > 0) {
    lines.push('| target | measured | met |', '| --- | --- | --- |');
    for (const t of report.targets) lines.push(`| ${t.target} | ${t.measured} | ${t.met ? 'yes' : 'NO'} |`);
    lines.push('');
  }
  if (report.sections?.length) lines.push(...report.sections, '');
  for (const note of report.notes) lines.push(`- ${note}`);
  return lines.join('\n') + '\n';
}

/** Writes `<name>.md` and `<name>.json` (and any extra files) under `dir`; returns the paths. */
export function writeReport(
  dir: string,
  name: string,
  report: BenchReport,
  extra: Record<string, string> = {},
): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const files: Record<string, string> = {
    [`${name}.md`]: toMarkdown(report),
    [`${name}.json`]: JSON.stringify(report, null, 2) + '\n',
    ...extra,
  };
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(dir, file);
    fs.writeFileSync(target, content);
    written.push(target);
  }
  return written;
}
