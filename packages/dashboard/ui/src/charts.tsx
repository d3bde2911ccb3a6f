// Hand-written SVG: the runs chart, the flow DAG coloured by step status, and the attempt Gantt.
import type { Bucket, ManifestStep, RunDetail } from './api.js';
import { duration } from './format.js';

/** Stacked bars of runs per bucket: succeeded, failed, other. */
export function RunsChart({ buckets, granularity }: { buckets: Bucket[]; granularity: 'Hour' | 'Day' }) {
  const width = 720;
  const height = 160;
  const pad = { left: 32, right: 8, top: 8, bottom: 22 };
  const max = Math.max(1, ...buckets.map((b) => b.total));
  const inner = width - pad.left - pad.right;
  const barW = buckets.length ? inner / buckets.length : inner;
  const y = (n: number) => pad.top + (height - pad.top - pad.bottom) * (1 - n / max);
  const total = buckets.reduce((n, b) => n + b.total, 0);
  const failed = buckets.reduce((n, b) => n + b.failed, 0);
  const label = (iso: string) => {
    const d = new Date(iso);
    return granularity === 'Hour'
      ? `${String(d.getHours()).padStart(2, '0')}:00`
      : d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  };
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`Runs per ${granularity.toLowerCase()}: ${total} started, ${failed} failed`}
    >
      <line x1={pad.left} x2={width - pad.right} y1={y(0)} y2={y(0)} class="axis" />
      <text x={pad.left - 4} y={y(max) + 4} class="tick" text-anchor="end">
        {max}
      </text>
      <text x={pad.left - 4} y={y(0)} class="tick" text-anchor="end">
        0
      </text>
      {buckets.map((b, i) => {
        const x = pad.left + i * barW + 1;
        const w = Math.max(1, barW - 2);
        const other = b.total - b.succeeded - b.failed;
        const ok = y(0) - y(b.succeeded);
        const bad = y(0) - y(b.failed);
        const rest = y(0) - y(other);
        return (
          <g key={b.timestamp}>
            <title>{`${label(b.timestamp)}: ${b.total} runs, ${b.succeeded} succeeded, ${b.failed} failed, p95 ${duration(b.p95DurationMs)}`}</title>
            <rect x={x} width={w} y={y(0) - ok} height={ok} class="bar-ok" />
            <rect x={x} width={w} y={y(0) - ok - bad} height={bad} class="bar-failed" />
            <rect x={x} width={w} y={y(0) - ok - bad - rest} height={rest} class="bar-other" />
            {i % every === 0 ? (
              <text x={x + w / 2} y={height - 6} class="tick" text-anchor="middle">
                {label(b.timestamp)}
              </text>
            ) : null}
          </g>
        );
      })}
    </svg>
  );
}

/** Layers of a step graph: each step one column right of its furthest dependency. */
function layers(steps: Record<string, ManifestStep>): Map<string, number> {
  const depth = new Map<string, number>();
  const visit = (key: string, trail: Set<string>): number => {
    const known = depth.get(key);
    if (known !== undefined) return known;
    if (trail.has(key)) return 0;
    trail.add(key);
    const deps = Object.keys(steps[key]?.runAfter ?? {}).filter((d) => d in steps);
    const d = deps.length ? 1 + Math.max(...deps.map((dep) => visit(dep, trail))) : 0;
    depth.set(key, d);
    return d;
  };
  for (const key of Object.keys(steps)) visit(key, new Set());
  return depth;
}

/** The flow's steps as a DAG, each node coloured by the step's status in this run. */
export function FlowDag({
  steps,
  statuses,
}: {
  steps: Record<string, ManifestStep>;
  statuses: Record<string, string>;
}) {
  const depth = layers(steps);
  const columns: string[][] = [];
  for (const key of Object.keys(steps)) {
    const d = depth.get(key) ?? 0;
    while (columns.length <= d) columns.push([]);
    columns[d]!.push(key);
  }
  const nodeW = 150;
  const nodeH = 44;
  const gapX = 56;
  const gapY = 18;
  const pos = new Map<string, { x: number; y: number }>();
  for (const [c, keys] of columns.entries()) {
    for (const [r, key] of keys.entries()) {
      pos.set(key, { x: 8 + c * (nodeW + gapX), y: 8 + r * (nodeH + gapY) });
    }
  }
  const width = 16 + columns.length * (nodeW + gapX) - gapX;
  const height = 16 + Math.max(1, ...columns.map((c) => c.length)) * (nodeH + gapY) - gapY;
  const summary = Object.keys(steps)
    .map((k) => `${k}: ${statuses[k] ?? 'not run'}`)
    .join(', ');
  return (
    <svg
      class="dag"
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      role="img"
      aria-label={`Flow graph. ${summary}`}
    >
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto"
        >
          <path d="M0,0 L10,5 L0,10 z" class="edge-head" />
        </marker>
      </defs>
      {Object.entries(steps).flatMap(([key, step]) =>
        Object.keys(step.runAfter)
          .filter((dep) => pos.has(dep))
          .map((dep) => {
            const a = pos.get(dep)!;
            const b = pos.get(key)!;
            const x1 = a.x + nodeW;
            const y1 = a.y + nodeH / 2;
            const x2 = b.x - 2;
            const y2 = b.y + nodeH / 2;
            const mid = (x1 + x2) / 2;
            return (
              <path
                key={`${dep}->${key}`}
                d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
                class="edge"
                marker-end="url(#arrow)"
              />
            );
          }),
      )}
      {Object.entries(steps).map(([key, step]) => {
        const p = pos.get(key)!;
        const status = statuses[key] ?? 'NotRun';
        return (
          <g key={key} class={`node node-${status}`} data-step={key} data-status={status}>
            <title>{`${key} (${step.type}): ${statuses[key] ?? 'not run'}`}</title>
            <rect x={p.x} y={p.y} width={nodeW} height={nodeH} rx="6" />
            <text x={p.x + 8} y={p.y + 18} class="node-key">
              {key.length > 20 ? `${key.slice(0, 19)}…` : key}
            </text>
            <text x={p.x + 8} y={p.y + 34} class="node-sub">
              {`${step.type} · ${statuses[key] ?? 'not run'}`.slice(0, 26)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** Every attempt of every step on one time axis from the run's start. */
export function AttemptGantt({ run }: { run: RunDetail }) {
  const start = new Date(run.startedAt).getTime();
  const rows = run.steps.flatMap((s) =>
    s.attempts.map((a) => ({
      label: s.attempts.length > 1 ? `${s.key} #${a.attempt}` : s.key,
      status: a.status,
      from: new Date(a.startedAt).getTime() - start,
      to: (a.completedAt ? new Date(a.completedAt).getTime() : Date.now()) - start,
    })),
  );
  const end = Math.max(
    1,
    ...rows.map((r) => r.to),
    (run.completedAt ? new Date(run.completedAt).getTime() : Date.now()) - start,
  );
  const labelW = 170;
  const width = 720;
  const rowH = 22;
  const scale = (width - labelW - 10) / end;
  const height = rows.length * rowH + 24;
  return (
    <svg
      class="gantt"
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`Timeline of ${rows.length} attempts over ${duration(end)}`}
    >
      {rows.map((r, i) => (
        <g key={`${r.label}-${i}`}>
          <title>{`${r.label}: ${r.status}, +${duration(r.from)} → +${duration(r.to)} (${duration(r.to - r.from)})`}</title>
          <text x={labelW - 6} y={i * rowH + 15} class="gantt-label" text-anchor="end">
            {r.label.length > 24 ? `${r.label.slice(0, 23)}…` : r.label}
          </text>
          <rect
            x={labelW + r.from * scale}
            y={i * rowH + 4}
            width={Math.max(2, (r.to - r.from) * scale)}
            height={rowH - 8}
            rx="3"
            class={`gantt-bar status-fill-${r.status}`}
          />
        </g>
      ))}
      <text x={labelW} y={height - 6} class="tick">
        0
      </text>
      <text x={width - 10} y={height - 6} class="tick" text-anchor="end">
        {duration(end)}
      </text>
    </svg>
  );
}
