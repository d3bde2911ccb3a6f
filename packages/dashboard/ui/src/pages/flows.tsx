import { useState } from 'preact/hooks';
import { api, type FlowDetail, type FlowSummary, seg } from '../api.js';
import { LoadError, NoticeBar, Section, useAction, useLoad } from '../components.js';
import { when } from '../format.js';
import { go } from '../nav.js';

function TriggerForm({ flow, onDone }: { flow: FlowSummary; onDone: () => void }) {
  const keys = flow.triggers.map((t) => t.key);
  const [key, setKey] = useState(keys.includes('manual') ? 'manual' : (keys[0] ?? 'manual'));
  const [data, setData] = useState('{}');
  const action = useAction();
  const id = `trigger-${flow.id}`;
  return (
    <form
      class="inline-form"
      aria-label={`Trigger ${flow.name}`}
      onSubmit={async (e) => {
        e.preventDefault();
        let parsed: unknown;
        try {
          parsed = data.trim() ? JSON.parse(data) : null;
        } catch {
          action.setNotice({ kind: 'error', text: 'Trigger failed: the data is not valid JSON.' });
          return;
        }
        try {
          const run = await api.post<{ runId: string }>(`/flows/${seg(flow.id)}/trigger`, {
            triggerKey: key,
            data: parsed,
          });
          onDone();
          go(`/runs/${run.runId}`);
        } catch (error) {
          action.setNotice({ kind: 'error', text: `Trigger failed: ${(error as Error).message}` });
        }
      }}
    >
      <label for={`${id}-key`}>Trigger</label>
      <select id={`${id}-key`} value={key} onChange={(e) => setKey((e.target as HTMLSelectElement).value)}>
        {keys.map((k) => (
          <option key={k} value={k}>
            {k}
          </option>
        ))}
      </select>
      <label for={`${id}-data`}>Data (JSON)</label>
      <textarea
        id={`${id}-data`}
        rows={3}
        value={data}
        onInput={(e) => setData((e.target as HTMLTextAreaElement).value)}
      />
      <button type="submit" disabled={!flow.isEnabled}>
        Trigger run
      </button>
      <NoticeBar notice={action.notice} />
    </form>
  );
}

function Mermaid({ flowId }: { flowId: string }) {
  const [text, setText] = useState<string | null>(null);
  return (
    <details
      onToggle={async (e) => {
        if ((e.target as HTMLDetailsElement).open && text === null) {
          const m = await api.get<{ mermaid: string }>(`/flows/${seg(flowId)}/mermaid`);
          setText(m.mermaid);
        }
      }}
    >
      <summary>Mermaid diagram source</summary>
      <pre class="mermaid-source">{text ?? 'Loading…'}</pre>
    </details>
  );
}

function FlowCard({ flow, reload, open }: { flow: FlowSummary; reload: () => void; open: boolean }) {
  const action = useAction();
  const detail = useLoad(
    () => (open ? api.get<FlowDetail>(`/flows/${seg(flow.id)}`) : Promise.resolve(null)),
    [open, flow.id],
  );
  return (
    <article class="card flow" data-flow={flow.id} aria-labelledby={`flow-${flow.id}`}>
      <div class="card-head">
        <h2 id={`flow-${flow.id}`}>
          <a href={`#/flows/${flow.id}`}>{flow.name}</a>{' '}
          <span class={`badge ${flow.isEnabled ? 'status-Succeeded' : 'status-Skipped'}`}>
            {flow.isEnabled ? 'Enabled' : 'Disabled'}
          </span>
        </h2>
        <button
          type="button"
          disabled={action.busy}
          onClick={async () => {
            await action.run(
              flow.isEnabled ? 'Disable' : 'Enable',
              () => api.post(`/flows/${seg(flow.id)}/${flow.isEnabled ? 'disable' : 'enable'}`),
              `${flow.name} ${flow.isEnabled ? 'disabled' : 'enabled'}.`,
            );
            reload();
          }}
        >
          {flow.isEnabled ? 'Disable' : 'Enable'}
        </button>
      </div>
      <NoticeBar notice={action.notice} />
      <p class="muted">
        v{flow.version} · {flow.stepCount} steps · updated {when(flow.updatedAt)} · <code>{flow.id}</code> ·{' '}
        <a href={`#/runs?flowId=${flow.id}`}>runs</a>
      </p>
      <ul class="triggers" aria-label="Triggers">
        {flow.triggers.map((t) => (
          <li key={t.key}>
            <strong>{t.key}</strong> {t.type}
            {t.cron ? ` ${t.cron}${t.timezone ? ` (${t.timezone})` : ''}` : ''}
            {t.webhookSlug ? ` → api/webhook/${t.webhookSlug}` : ''}
          </li>
        ))}
      </ul>
      <TriggerForm flow={flow} onDone={reload} />
      <Mermaid flowId={flow.id} />
      {open && detail.data ? (
        <details open>
          <summary>Definition (secrets redacted)</summary>
          <pre>{JSON.stringify(detail.data.manifest, null, 2)}</pre>
        </details>
      ) : null}
    </article>
  );
}

export function FlowsPage({ focus }: { focus?: string | undefined }) {
  const flows = useLoad(() => api.get<{ flows: FlowSummary[] }>('/flows'), []);
  const shown = flows.data?.flows.filter((f) => !focus || f.id === focus) ?? [];
  return (
    <>
      <h1 tabIndex={-1}>{focus && shown[0] ? shown[0].name : 'Flows'}</h1>
      <LoadError error={flows.error} />
      {focus ? (
        <p>
          <a href="#/flows">All flows</a>
        </p>
      ) : null}
      {flows.data && shown.length === 0 ? <Section title="No flows">No flow is registered.</Section> : null}
      {shown.map((f) => (
        <FlowCard key={f.id} flow={f} reload={flows.reload} open={focus === f.id} />
      ))}
    </>
  );
}
