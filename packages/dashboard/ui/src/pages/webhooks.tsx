import { useState } from 'preact/hooks';
import { api, type Delivery, type DeliveryPage, type WebhookStats } from '../api.js';
import { LoadError, Pager, Section, useLoad } from '../components.js';
import { json, when } from '../format.js';
import { goWithQuery, pageOf } from '../nav.js';

function DeliveryDetail({ d }: { d: Delivery }) {
  return (
    <section class="card dead-letter" aria-labelledby="delivery-title">
      <h2 id="delivery-title">
        Delivery #{d.id} — {d.accepted ? 'accepted' : `rejected: ${d.reason}`}
      </h2>
      <dl class="facts">
        <dt>Received</dt>
        <dd>{when(d.receivedAt)}</dd>
        <dt>Status</dt>
        <dd>{d.statusCode}</dd>
        <dt>Reason</dt>
        <dd data-reason={d.reason}>{d.reason || '—'}</dd>
        <dt>Flow / trigger</dt>
        <dd>
          {d.flowId ?? '—'} {d.triggerKey ?? ''}
        </dd>
        <dt>From</dt>
        <dd>{d.remoteIp ?? '—'}</dd>
        <dt>Scheme</dt>
        <dd>{d.scheme ?? '—'}</dd>
        <dt>Body</dt>
        <dd>{d.bodyBytes} bytes</dd>
      </dl>
      <h3>Body excerpt</h3>
      <pre class="body-excerpt">{d.bodyExcerpt ?? '(not recorded)'}</pre>
      <h3>Headers</h3>
      <pre>{json(d.headers)}</pre>
    </section>
  );
}

export function WebhooksPage({ query }: { query: URLSearchParams }) {
  const show = query.get('show') ?? 'all';
  const reason = query.get('reason') ?? '';
  const { skip, take } = pageOf(query, 25);
  const [selected, setSelected] = useState<Delivery | null>(null);
  const stats = useLoad(() => api.get<WebhookStats>('/webhooks/stats'), []);
  const params = new URLSearchParams({ skip: String(skip), take: String(take) });
  if (show === 'rejected') params.set('accepted', 'false');
  if (show === 'accepted') params.set('rejected', 'false');
  if (reason) params.set('reason', reason);
  const page = useLoad(() => api.get<DeliveryPage>(`/webhooks/recent?${params}`), [params.toString()]);
  const navigate = (changes: Record<string, string | number>) => {
    setSelected(null);
    goWithQuery('/webhooks', query, changes);
  };
  const reasons = Object.entries(stats.data?.rejectedByReason ?? {});
  return (
    <>
      <h1 tabIndex={-1}>Webhooks</h1>
      <LoadError error={stats.error ?? page.error} />
      <Section title="Dead letters by reason (24 hours)" id="reasons">
        {stats.data ? (
          <>
            <p>
              {stats.data.acceptedTotal} accepted and {stats.data.rejectedTotal} rejected deliveries recorded.
            </p>
            {reasons.length === 0 ? <p>No rejection in the last 24 hours.</p> : null}
            <ul class="reasons">
              {reasons.map(([r, n]) => (
                <li key={r}>
                  <button
                    type="button"
                    class="link"
                    aria-pressed={reason === r}
                    onClick={() => navigate({ reason: reason === r ? '' : r, show: 'rejected' })}
                  >
                    {r}
                  </button>{' '}
                  <span class="count">{n}</span>
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </Section>
      <Section
        title="Recent deliveries"
        id="recent"
        actions={
          <label>
            Show{' '}
            <select value={show} onChange={(e) => navigate({ show: (e.target as HTMLSelectElement).value })}>
              <option value="all">All</option>
              <option value="rejected">Dead letters</option>
              <option value="accepted">Accepted</option>
            </select>
          </label>
        }
      >
        {reason ? (
          <p>
            Reason <code>{reason}</code>{' '}
            <button type="button" class="link" onClick={() => navigate({ reason: '' })}>
              clear
            </button>
          </p>
        ) : null}
        {page.data ? (
          <>
            <table class="deliveries">
              <thead>
                <tr>
                  <th scope="col">Received</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Status</th>
                  <th scope="col">Trigger</th>
                  <th scope="col">From</th>
                  <th scope="col">
                    <span class="sr-only">Open</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {page.data.items.map((d) => (
                  <tr key={d.id} data-delivery={d.id}>
                    <td>{when(d.receivedAt)}</td>
                    <td>{d.accepted ? 'accepted' : d.reason}</td>
                    <td>{d.statusCode}</td>
                    <td>{d.triggerKey ?? '—'}</td>
                    <td>{d.remoteIp ?? '—'}</td>
                    <td>
                      <button
                        type="button"
                        onClick={() => setSelected(d)}
                        aria-label={`Open delivery ${d.id}`}
                      >
                        Open
                      </button>
                    </td>
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
      {selected ? <DeliveryDetail d={selected} /> : null}
    </>
  );
}
