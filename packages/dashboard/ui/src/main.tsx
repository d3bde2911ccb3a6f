import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useLiveState } from './live.js';
import { FlowsPage } from './pages/flows.js';
import { OverviewPage } from './pages/overview.js';
import { RunDetailPage } from './pages/run-detail.js';
import { RunsPage } from './pages/runs.js';
import { SchedulesPage } from './pages/schedules.js';
import { WebhooksPage } from './pages/webhooks.js';

/** The hash route: `#/runs/<id>?x=y` → path segments and query. */
export interface Route {
  parts: string[];
  query: URLSearchParams;
}

function parse(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path = '/', search = ''] = raw.split('?');
  return {
    parts: path.split('/').filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(search),
  };
}

const NAV = [
  { href: '#/', label: 'Overview', match: '' },
  { href: '#/runs', label: 'Runs', match: 'runs' },
  { href: '#/flows', label: 'Flows', match: 'flows' },
  { href: '#/schedules', label: 'Schedules', match: 'schedules' },
  { href: '#/webhooks', label: 'Webhooks', match: 'webhooks' },
];

function LiveIndicator() {
  const state = useLiveState();
  const text = state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Offline';
  return (
    <span class={`live live-${state}`} role="status" aria-live="polite" data-live={state}>
      <span class="dot" aria-hidden="true" />
      {text}
    </span>
  );
}

function App() {
  const [route, setRoute] = useState(() => parse(window.location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parse(window.location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  // Move focus to the new page's heading for keyboard and screen-reader users.
  useEffect(() => {
    document.querySelector<HTMLElement>('main h1')?.focus({ preventScroll: true });
  }, [route.parts.join('/')]);
  const [first = '', second] = route.parts;
  let page = <OverviewPage />;
  if (first === 'runs' && second) page = <RunDetailPage runId={second} />;
  else if (first === 'runs') page = <RunsPage query={route.query} />;
  else if (first === 'flows') page = <FlowsPage focus={second} />;
  else if (first === 'schedules') page = <SchedulesPage />;
  else if (first === 'webhooks') page = <WebhooksPage query={route.query} />;
  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <span class="brand">floworch</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.href}>
                <a href={item.href} aria-current={first === item.match ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <LiveIndicator />
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}

const root = document.getElementById('app')!;
root.textContent = '';
render(<App />, root);
