import { api, type Bucket, type RunSummary, type Stats } from '../api.js';
import { RunsChart } from '../charts.js';
import { LoadError, Section, Status, useLoad } from '../components.js';
import { short, span, when } from '../format.js';
import { useLiveTick } from '../live.js';

export function OverviewPage() {
  const tick = useLiveTick();
  const stats = useLoad(() => api.get<Stats>('/runs/stats'), [tick]);
  const series = useLoad(() => api.get<{ buckets: Bucket[] }>('/runs/timeseries?granularity=Hour'), [tick]);
  const active = useLoad(() => api.get<{ runs: RunSummary[] }>('/runs/active?limit=20'), [tick]);
  const s = stats.data;
  return (
    <>
      <h1 tabIndex={-1}>Overview</h1>
      <LoadError error={stats.error ?? series.error ?? active.error} />
      <ul class="stats" aria-label="Counters">
        <li class="stat">
          <span class="stat-value" data-stat="totalFlows">
            {s?.totalFlows ?? '…'}
          </span>
          <span class="stat-label">Flows</span>
        </li>
        <li class="stat">
          <span class="stat-value" data-stat="activeRuns">
            {s?.activeRuns ?? '…'}
          </span>
          <span class="stat-label">Active runs</span>
        </li>
        <li class="stat">
          <span class="stat-value" data-stat="completedToday">
            {s?.completedToday ?? '…'}
          </span>
          <span class="stat-label">Succeeded today</span>
        </li>
        <li class="stat">
          <span class="stat-value stat-failed" data-stat="failedToday">
            {s?.failedToday ?? '…'}
          </span>
          <span class="stat-label">Failed today</span>
        </li>
      </ul>
      <Section title="Runs in the last 24 hours" id="chart">
        {series.data ? <RunsChart buckets={series.data.buckets} granularity="Hour" /> : <p>Loading…</p>}
        <p class="legend" aria-hidden="true">
          <span class="key key-ok" /> succeeded <span class="key key-failed" /> failed{' '}
          <span class="key key-other" /> other
        </p>
      </Section>
      <Section title="Active runs" id="active">
        {active.data && active.data.runs.length === 0 ? <p>No run is active.</p> : null}
        {active.data && active.data.runs.length > 0 ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Flow</th>
                <th scope="col">Status</th>
                <th scope="col">Started</th>
                <th scope="col">Running for</th>
              </tr>
            </thead>
            <tbody>
              {active.data.runs.map((r) => (
                <tr key={r.id}>
                  <td>
                    <a href={`#/runs/${r.id}`}>{short(r.id)}</a>
                  </td>
                  <td>{r.flowName}</td>
                  <td>
                    <Status value={r.status} />
                  </td>
                  <td>{when(r.startedAt)}</td>
                  <td>{span(r.startedAt, r.completedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
    </>
  );
}
