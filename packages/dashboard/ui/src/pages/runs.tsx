import { useState } from 'preact/hooks';
import { api, type FlowSummary, RUN_STATUSES, type RunPage } from '../api.js';
import { LoadError, Pager, Section, Status, useLoad } from '../components.js';
import { short, span, when } from '../format.js';
import { useLiveTick } from '../live.js';
import { goWithQuery, pageOf } from '../nav.js';

const PAGE_SIZES = [10, 25, 50, 100];

export function RunsPage({ query }: { query: URLSearchParams }) {
  const flowId = query.get('flowId') ?? '';
  const status = query.get('status') ?? '';
  const search = query.get('search') ?? '';
  const { skip, take } = pageOf(query, 25);
  const [draft, setDraft] = useState(search);
  const tick = useLiveTick();
  const flows = useLoad(() => api.get<{ flows: FlowSummary[] }>('/flows'), []);
  const params = new URLSearchParams();
  if (flowId) params.set('flowId', flowId);
  if (status) params.set('status', status);
  if (search) params.set('search', search);
  params.set('skip', String(skip));
  params.set('take', String(take));
  const page = useLoad(() => api.get<RunPage>(`/runs?${params}`), [params.toString(), tick]);

  const navigate = (changes: Record<string, string | number>) => goWithQuery('/runs', query, changes);

  return (
    <>
      <h1 tabIndex={-1}>Runs</h1>
      <form
        class="filters"
        aria-label="Filter runs"
        onSubmit={(e) => {
          e.preventDefault();
          navigate({ search: draft.trim() });
        }}
      >
        <label>
          Flow
          <select
            value={flowId}
            onChange={(e) => navigate({ flowId: (e.target as HTMLSelectElement).value })}
          >
            <option value="">All flows</option>
            {flows.data?.flows.map((f) => (
              <option key={f.id} value={f.id}>
                {f.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select
            value={status}
            onChange={(e) => navigate({ status: (e.target as HTMLSelectElement).value })}
          >
            <option value="">Any status</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search
          <input
            type="search"
            value={draft}
            placeholder="run id, step, error, output…"
            onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit">Search</button>
        <label>
          Page size
          <select
            value={String(take)}
            onChange={(e) => navigate({ take: (e.target as HTMLSelectElement).value })}
          >
            {PAGE_SIZES.map((n) => (
              <option key={n} value={String(n)}>
                {n}
              </option>
            ))}
          </select>
        </label>
      </form>
      <LoadError error={page.error} />
      <Section title={page.data ? `${page.data.total} runs` : 'Runs'} id="runs">
        {page.data ? (
          <>
            <table class="runs">
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Flow</th>
                  <th scope="col">Status</th>
                  <th scope="col">Trigger</th>
                  <th scope="col">Started</th>
                  <th scope="col">Duration</th>
                </tr>
              </thead>
              <tbody>
                {page.data.runs.map((r) => (
                  <tr key={r.id} data-run={r.id}>
                    <td>
                      <a href={`#/runs/${r.id}`} aria-label={`Run ${r.id}`}>
                        {short(r.id)}
                      </a>
                    </td>
                    <td>{r.flowName}</td>
                    <td>
                      <Status value={r.status} />
                    </td>
                    <td>{r.triggerKey}</td>
                    <td>{when(r.startedAt)}</td>
                    <td>{span(r.startedAt, r.completedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager
              skip={page.data.skip}
              take={page.data.take}
              total={page.data.total}
              onPage={(s) => navigate({ skip: s })}
            />
          </>
        ) : (
          <p>Loading…</p>
        )}
      </Section>
    </>
  );
}
