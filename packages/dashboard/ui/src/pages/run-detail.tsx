import { useState } from 'preact/hooks';
import { api, type FlowDetail, type Lineage, type RunDetail, seg } from '../api.js';
import { AttemptGantt, FlowDag } from '../charts.js';
import { LoadError, NoticeBar, Section, Status, useAction, useLoad } from '../components.js';
import { json, short, span, when } from '../format.js';
import { useLiveTick } from '../live.js';
import { go } from '../nav.js';

export function RunDetailPage({ runId }: { runId: string }) {
  const tick = useLiveTick(runId, 150);
  const run = useLoad(() => api.get<RunDetail>(`/runs/${seg(runId)}`), [runId, tick]);
  const flowId = run.data?.flowId;
  const flow = useLoad(
    () => (flowId ? api.get<FlowDetail>(`/flows/${seg(flowId)}`) : Promise.resolve(null)),
    [flowId],
  );
  const lineage = useLoad(() => api.get<Lineage>(`/runs/${seg(runId)}/lineage`), [runId, tick]);
  const action = useAction();
  const [signalName, setSignalName] = useState('');
  const [signalPayload, setSignalPayload] = useState('{}');
  const r = run.data;
  if (!r) {
    return (
      <>
        <h1 tabIndex={-1}>Run {short(runId)}</h1>
        <LoadError error={run.error} />
        {run.error ? null : <p>Loading…</p>}
      </>
    );
  }
  const statuses = Object.fromEntries(r.steps.map((s) => [s.key, s.status]));
  const act = async (label: string, fn: () => Promise<unknown>, ok?: string) => {
    await action.run(label, fn, ok);
    run.reload();
  };
  const sendSignal = async (e: Event) => {
    e.preventDefault();
    let payload: unknown;
    try {
      payload = signalPayload.trim() ? JSON.parse(signalPayload) : {};
    } catch {
      action.setNotice({ kind: 'error', text: 'Send signal failed: the payload is not valid JSON.' });
      return;
    }
    await act(
      'Send signal',
      () => api.post(`/runs/${seg(r.id)}/signals/${seg(signalName.trim())}`, payload),
      `Signal '${signalName.trim()}' delivered.`,
    );
  };
  return (
    <>
      <h1 tabIndex={-1}>
        Run {short(r.id)} <Status value={r.status} />
      </h1>
      <NoticeBar notice={action.notice} />
      <dl class="facts">
        <dt>Run id</dt>
        <dd>
          <code>{r.id}</code>
        </dd>
        <dt>Flow</dt>
        <dd>
          <a href={`#/flows/${r.flowId}`}>{r.flowName}</a>
        </dd>
        <dt>Trigger</dt>
        <dd>
          {r.triggerKey}
          {r.jobId ? ` (job ${r.jobId})` : ''}
        </dd>
        <dt>Started</dt>
        <dd>{when(r.startedAt)}</dd>
        <dt>Duration</dt>
        <dd>{span(r.startedAt, r.completedAt)}</dd>
        {r.sourceRunId ? (
          <>
            <dt>Re-run of</dt>
            <dd>
              <a href={`#/runs/${r.sourceRunId}`}>{short(r.sourceRunId)}</a>
            </dd>
          </>
        ) : null}
      </dl>
      <fieldset class="actions">
        <legend class="sr-only">Run actions</legend>
        <button
          type="button"
          class="danger"
          disabled={r.status !== 'Running' || action.busy}
          onClick={() => {
            if (window.confirm(`Cancel run ${short(r.id)}?`))
              void act('Cancel', () => api.post(`/runs/${seg(r.id)}/cancel`), 'Cancel requested.');
          }}
        >
          Cancel run
        </button>
        <button
          type="button"
          disabled={action.busy}
          onClick={async () => {
            try {
              const started = await api.post<{ runId: string }>(`/runs/${seg(r.id)}/rerun`);
              go(`/runs/${started.runId}`);
            } catch (error) {
              action.setNotice({ kind: 'error', text: `Re-run failed: ${(error as Error).message}` });
            }
          }}
        >
          Re-run
        </button>
      </fieldset>
      {r.status === 'Running' ? (
        <form class="inline-form" onSubmit={sendSignal} aria-label="Send a signal">
          <label>
            Signal name
            <input
              required
              value={signalName}
              onInput={(e) => setSignalName((e.target as HTMLInputElement).value)}
            />
          </label>
          <label>
            Payload (JSON)
            <textarea
              rows={2}
              value={signalPayload}
              onInput={(e) => setSignalPayload((e.target as HTMLTextAreaElement).value)}
            />
          </label>
          <button type="submit" disabled={action.busy || !signalName.trim()}>
            Send signal
          </button>
        </form>
      ) : null}
      <Section title="Flow graph" id="dag">
        {flow.data ? (
          <FlowDag steps={flow.data.manifest.steps} statuses={statuses} />
        ) : (
          <p>{flow.error ? `Flow definition unavailable: ${flow.error}` : 'Loading…'}</p>
        )}
      </Section>
      <Section title="Timeline" id="timeline">
        {r.steps.length ? <AttemptGantt run={r} /> : <p>No step has started.</p>}
      </Section>
      <Section title="Steps" id="steps">
        <table class="steps">
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">Type</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Duration</th>
              <th scope="col">Details</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {r.steps.map((s) => (
              <tr key={s.key} data-step={s.key}>
                <th scope="row">{s.key}</th>
                <td>{s.type}</td>
                <td>
                  <Status value={s.status} />
                </td>
                <td>{s.attempts.length}</td>
                <td>{span(s.startedAt, s.completedAt)}</td>
                <td>
                  {s.error ? <p class="step-error">{s.error}</p> : null}
                  {s.jobId ? (
                    <p class="step-job" title="Id of the job that delivered the latest attempt">
                      Job <code>{s.jobId}</code>
                    </p>
                  ) : null}
                  <details>
                    <summary>Input and output</summary>
                    <h3>Input</h3>
                    <pre>{json(s.input)}</pre>
                    <h3>Output</h3>
                    <pre>{json(s.output)}</pre>
                    {s.attempts.length > 1 ? (
                      <>
                        <h3>Attempts</h3>
                        <ol>
                          {s.attempts.map((a) => (
                            <li key={a.attempt}>
                              {a.status} {a.error ? `— ${a.error}` : ''} ({span(a.startedAt, a.completedAt)})
                              {a.jobId ? (
                                <>
                                  {' '}
                                  job <code>{a.jobId}</code>
                                </>
                              ) : null}
                            </li>
                          ))}
                        </ol>
                      </>
                    ) : null}
                  </details>
                </td>
                <td>
                  {s.status === 'Failed' || s.status === 'Skipped' ? (
                    <button
                      type="button"
                      disabled={action.busy}
                      aria-label={`Retry step ${s.key}`}
                      onClick={() =>
                        act(
                          `Retry ${s.key}`,
                          () => api.post(`/runs/${seg(r.id)}/steps/${seg(s.key)}/retry`),
                          `Step '${s.key}' retried.`,
                        )
                      }
                    >
                      Retry
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Trigger data" id="trigger">
        <pre>{json(r.triggerData)}</pre>
        {r.triggerHeaders ? (
          <details>
            <summary>Headers</summary>
            <pre>{json(r.triggerHeaders)}</pre>
          </details>
        ) : null}
      </Section>
      <Section title="Events" id="events">
        <ol class="events">
          {r.events.map((e) => (
            <li key={e.sequence} data-event={e.type}>
              <time dateTime={e.timestamp}>{when(e.timestamp)}</time> <code>{e.type}</code>
              {e.stepKey ? ` ${e.stepKey}` : ''} — {e.message}
            </li>
          ))}
        </ol>
      </Section>
      {lineage.data && (lineage.data.ancestors.length > 0 || lineage.data.derived.length > 0) ? (
        <Section title="Lineage" id="lineage">
          <ul>
            {lineage.data.ancestors.map((a) => (
              <li key={a.id}>
                Re-run of <a href={`#/runs/${a.id}`}>{short(a.id)}</a> <Status value={a.status} />
              </li>
            ))}
            {lineage.data.derived.map((d) => (
              <li key={d.id}>
                Re-run as <a href={`#/runs/${d.id}`}>{short(d.id)}</a> <Status value={d.status} />
              </li>
            ))}
          </ul>
        </Section>
      ) : null}
    </>
  );
}
