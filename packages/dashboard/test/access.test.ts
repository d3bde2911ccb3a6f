// Access control: the localhost-only default, Basic auth, the authorize hook, auth: false, the
// CSRF rule for mutating requests, and the webhook route outside dashboard auth.
import { createFlowClient, type FlowDefinition, type Logger, silentLogger } from '@floworch/core';
import { createInMemoryStorage } from '@floworch/inmemory';
import { afterEach, describe, expect, it } from 'vitest';
import {
  constantTimeEquals,
  createDashboard,
  type DashboardOptions,
  isLoopback,
  serveDashboard,
} from '../src/index.js';
import { basic } from './support.js';

const flow: FlowDefinition = {
  id: 'hello-flow',
  name: 'Hello',
  triggers: { manual: { type: 'Manual' }, hook: { type: 'Webhook', inputs: { webhookSlug: 'hello' } } },
  steps: { greet: { type: 'Greet' } },
};

function recordingLogger(lines: string[]): Logger {
  return { ...silentLogger, warn: (msg: string) => lines.push(msg) };
}

function dashboard(options: Partial<DashboardOptions> = {}, warnings: string[] = []) {
  const storage = createInMemoryStorage();
  const client = createFlowClient({ storage, flows: [flow], logger: silentLogger });
  return createDashboard({ client, logger: recordingLogger(warnings), ...options });
}

/** A request as it arrives through `fetch` (no socket: the remote address is unknown). */
const remote = (path: string, init: RequestInit = {}) =>
  new Request(`http://dash.example.com/flows${path}`, init);

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('default: no auth configured', () => {
  it('says so at creation and serves loopback addresses only', async () => {
    const warnings: string[] = [];
    const d = dashboard({}, warnings);
    expect(warnings.join('\n')).toMatch(/authentication is off, so only requests from localhost are served/);
    const refused = await d.fetch(remote('/api/flows'));
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({
      error: 'Authentication is not configured: the dashboard serves localhost only.',
      code: 'FORBIDDEN',
    });
    expect((await d.fetch(remote('/'))).status).toBe(403);
    const served = await serveDashboard(d, { port: 0 });
    closers.push(() => served.close());
    expect((await fetch(`${served.url}api/flows`)).status).toBe(200);
    expect((await fetch(served.url)).status).toBe(200);
  });

  it('recognises loopback addresses', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('127.8.9.10')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('10.0.0.1')).toBe(false);
    expect(isLoopback('::ffff:192.168.1.1')).toBe(false);
    expect(isLoopback(null)).toBe(false);
  });
});

describe('Basic auth and the authorize hook', () => {
  it('Basic: 401 with a challenge without or with wrong credentials, 200 with them', async () => {
    const d = dashboard({
      auth: {
        basic: [
          { username: 'ops', password: 's3cret' },
          { username: 'dev', password: 'pw' },
        ],
      },
    });
    const none = await d.fetch(remote('/api/flows'));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="floworch", charset="UTF-8"');
    for (const header of [
      basic('ops', 'wrong'),
      basic('nobody', 's3cret'),
      'Basic !!!',
      'Bearer x',
      basic('ops', ''),
    ]) {
      expect((await d.fetch(remote('/api/flows', { headers: { authorization: header } }))).status).toBe(401);
    }
    expect(
      (await d.fetch(remote('/api/flows', { headers: { authorization: basic('ops', 's3cret') } }))).status,
    ).toBe(200);
    expect(
      (await d.fetch(remote('/api/flows', { headers: { authorization: basic('dev', 'pw') } }))).status,
    ).toBe(200);
    // A password containing a colon.
    const colon = dashboard({ auth: { basic: { username: 'a', password: 'b:c' } } });
    expect(
      (await colon.fetch(remote('/api/flows', { headers: { authorization: basic('a', 'b:c') } }))).status,
    ).toBe(200);
  });

  it('authorize(request) lets a request through; either it or Basic suffices', async () => {
    const seen: string[] = [];
    const d = dashboard({
      auth: {
        basic: { username: 'ops', password: 's3cret' },
        authorize: (request) => {
          seen.push(new URL(request.url).pathname);
          return request.headers.get('x-gateway-user') === 'alice';
        },
      },
    });
    expect((await d.fetch(remote('/api/flows', { headers: { 'x-gateway-user': 'alice' } }))).status).toBe(
      200,
    );
    expect((await d.fetch(remote('/api/flows', { headers: { 'x-gateway-user': 'mallory' } }))).status).toBe(
      401,
    );
    expect(
      (await d.fetch(remote('/api/flows', { headers: { authorization: basic('ops', 's3cret') } }))).status,
    ).toBe(200);
    expect(seen).toContain('/flows/api/flows');
    const hookOnly = dashboard({ auth: { authorize: async () => false } });
    const refused = await hookOnly.fetch(remote('/api/runs'));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBeNull();
  });

  it('auth: false serves everyone and warns', async () => {
    const warnings: string[] = [];
    const d = dashboard({ auth: false }, warnings);
    expect(warnings.join('\n')).toMatch(/authentication is turned off/);
    expect((await d.fetch(remote('/api/flows'))).status).toBe(200);
  });

  it('compares in constant time over hashes', () => {
    expect(constantTimeEquals('abc', 'abc')).toBe(true);
    expect(constantTimeEquals('abc', 'abd')).toBe(false);
    expect(constantTimeEquals('abc', 'abcd')).toBe(false);
    expect(constantTimeEquals('', '')).toBe(true);
  });
});

describe('the webhook route and probes are never behind dashboard auth', () => {
  it('webhook deliveries and health probes pass without credentials', async () => {
    const d = dashboard({ auth: { basic: { username: 'ops', password: 's3cret' } } });
    const delivery = await d.fetch(remote('/api/webhook/hello', { method: 'POST', body: '{"a":1}' }));
    expect(delivery.status).toBe(200);
    expect(await delivery.json()).toMatchObject({ runId: expect.any(String) });
    // Not even a cross-site origin blocks a webhook: partners are other sites.
    const crossSite = await d.fetch(
      remote('/api/webhook/hello', {
        method: 'POST',
        body: '{}',
        headers: { origin: 'https://partner.example' },
      }),
    );
    expect(crossSite.status).toBe(200);
    expect((await d.fetch(remote('/health/live'))).status).toBe(200);
    expect((await d.fetch(remote('/health/ready'))).status).toBe(200);
  });
});

describe('CSRF: mutating requests must be same-origin', () => {
  const auth = { authorization: basic('ops', 's3cret') };
  const post = (d: ReturnType<typeof dashboard>, headers: Record<string, string>) =>
    d.fetch(remote('/api/flows/hello-flow/trigger', { method: 'POST', headers: { ...auth, ...headers } }));

  it('refuses a foreign Origin or a cross-site fetch, accepts same-origin, listed origins and non-browser clients', async () => {
    const d = dashboard({
      auth: { basic: { username: 'ops', password: 's3cret' } },
      allowedOrigins: ['https://admin.example.com'],
    });
    const foreign = await post(d, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toEqual({ error: 'Cross-origin request refused.', code: 'CSRF' });
    expect((await post(d, { origin: 'null' })).status).toBe(403);
    expect((await post(d, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post(d, { 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await post(d, { origin: 'http://dash.example.com' })).status).toBe(202);
    // Behind a TLS-terminating proxy the browser's origin says https.
    expect((await post(d, { origin: 'https://dash.example.com' })).status).toBe(202);
    expect((await post(d, { 'sec-fetch-site': 'same-origin' })).status).toBe(202);
    expect((await post(d, { origin: 'https://admin.example.com' })).status).toBe(202);
    expect((await post(d, {})).status).toBe(202); // curl, scripts
    // Reads are not mutations: a cross-site GET is answered (the browser keeps the body from the page).
    expect(
      (await d.fetch(remote('/api/flows', { headers: { ...auth, origin: 'https://evil.example' } }))).status,
    ).toBe(200);
  });

  it('a foreign origin cannot mutate through PUT either', async () => {
    const d = dashboard({ auth: { basic: { username: 'ops', password: 's3cret' } } });
    const response = await d.fetch(
      remote('/api/schedules/x/cron', {
        method: 'PUT',
        body: '{"cron":"* * * * *"}',
        headers: { ...auth, origin: 'https://evil.example' },
      }),
    );
    expect(response.status).toBe(403);
  });
});

describe('security headers and the UI', () => {
  it('serves the UI with a strict CSP and no caching of API answers', async () => {
    const d = dashboard({ auth: false });
    const page = await d.fetch(remote('/'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    expect(html).toContain('<meta name="floworch-base" content="/flows">');
    expect(html).toContain('src="/flows/assets/app.js"');
    expect(html).not.toMatch(/https?:\/\//); // nothing from a CDN
    const js = await d.fetch(remote('/assets/app.js'));
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await d.fetch(remote('/assets/index.html'))).status).toBe(404);
    expect((await d.fetch(remote('/assets/..%2Fpackage.json'))).status).toBe(404);
    const api = await d.fetch(remote('/api/flows'));
    expect(api.headers.get('cache-control')).toBe('no-store');
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers 413 for an oversized body', async () => {
    const d = dashboard({ auth: false, maxBodyBytes: 64 });
    const response = await d.fetch(
      remote('/api/flows/hello-flow/trigger', {
        method: 'POST',
        body: JSON.stringify({ data: 'x'.repeat(200) }),
        headers: { 'content-type': 'application/json' },
      }),
    );
    expect(response.status).toBe(413);
  });
});
