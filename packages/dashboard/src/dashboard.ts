import type { IncomingMessage, ServerResponse } from 'node:http';
import { consoleLogger, type FlowClient, type Logger } from '@floworch/core';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { type EventStreamOptions, StreamRegistry } from './events/stream.js';
import { errorResponse, HttpError } from './http/errors.js';
import { apiRoutes } from './routes/api.js';
import { healthRoutes } from './routes/health.js';
import { type DashboardWebhookOptions, webhookRoute } from './routes/webhook.js';
import { type DashboardAuthOptions, decideAccess, sameOriginAllowed } from './security/access.js';
import { loadUi, MISSING_UI_PAGE, type UiAsset } from './ui-assets.js';

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  /** The flow client the API is built on: `orchestrator.client` or `createFlowClient(…)`. */
  readonly client: FlowClient;
  /** Path the dashboard is mounted at (default `/flows`; `''` or `/` for the root). */
  readonly basePath?: string;
  /**
   * Who may use the dashboard and its API (the webhook route and `/health/*` are never behind
   * it). Without Basic accounts or an `authorize` hook only loopback addresses are served, and a
   * warning says so at creation. `false` turns every check off (behind a gateway that
   * authenticates).
   */
  readonly auth?: DashboardAuthOptions | false;
  /** Other origins (`https://admin.example.com`) allowed to send mutating requests. */
  readonly allowedOrigins?: readonly string[];
  /** Webhook route settings, or `false` to leave `POST /api/webhook/{idOrSlug}` out. */
  readonly webhooks?: DashboardWebhookOptions | false;
  /** Server-Sent Events tuning. */
  readonly events?: EventStreamOptions;
  /** Largest JSON body the API accepts, in bytes (default 1 MiB). */
  readonly maxBodyBytes?: number;
  /** Directory of the built UI (default: `dist/ui` of this package). */
  readonly uiDir?: string;
  /** Warnings (auth off) and failures (default: the console). */
  readonly logger?: Logger;
}

/** Node bindings @hono/node-server passes as the Hono env. */
interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

/** A dashboard: a Hono app plus adapters for node:http, Express and Fastify. */
export interface Dashboard {
  /** The mount path (no trailing slash; `''` for the root). */
  readonly basePath: string;
  /** The Hono app (mount it in another Hono app with `app.route('/', dashboard.app)`). */
  readonly app: Hono<{ Bindings: NodeBindings }>;
  /** Fetch handler (Bun, Deno, workers, tests). The remote address is unknown here. */
  fetch(request: Request): Promise<Response>;
  /**
   * A `node:http` / Express listener: requests under `basePath` are answered, others go to
   * `next` (or get 404). Mount it before body parsers; works for `app.use(listener)` and
   * `app.use('/flows', listener)` alike.
   */
  nodeListener(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /**
   * A Fastify `onRequest` hook: `fastify.addHook('onRequest', dashboard.fastifyHook)`. Answers
   * requests under `basePath` before Fastify parses their bodies; other requests continue.
   */
  fastifyHook(
    request: { raw: IncomingMessage },
    reply: { raw: ServerResponse; hijack(): void },
    done: (error?: Error) => void,
  ): void;
  /** Ends open event streams. The dashboard keeps no other resource. */
  close(): Promise<void>;
}

function normaliseBase(base: string | undefined): string {
  const raw = (base ?? '/flows').trim();
  if (raw === '' || raw === '/') return '';
  const withSlash = raw.startsWith('/') ? raw : `/${raw}`;
  return withSlash.replace(/\/+$/, '');
}

const BASE_META = '<meta name="floworch-base" content="">';

/**
 * Creates the dashboard: the REST API under `{basePath}/api`, the event stream, health probes,
 * the webhook endpoint and the web UI.
 *
 * @example
 * const dashboard = createDashboard({ client: orchestrator.client, auth: { basic: { username: 'ops', password } } });
 * http.createServer(dashboard.nodeListener).listen(3000); // http://localhost:3000/flows/
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  if (!options?.client) throw new TypeError('createDashboard: a flow client is required');
  const base = normaliseBase(options.basePath);
  const logger = options.logger ?? consoleLogger({ component: 'floworch.dashboard' });
  const auth = options.auth;
  const hasAuth =
    auth !== false &&
    !!auth &&
    (!!auth.authorize || (Array.isArray(auth.basic) ? auth.basic.length > 0 : !!auth.basic));
  if (auth === false) {
    logger.warn('floworch dashboard: authentication is turned off (auth: false); every request is served.');
  } else if (!hasAuth) {
    logger.warn(
      'floworch dashboard: authentication is off, so only requests from localhost are served. Set auth.basic or auth.authorize to serve other addresses.',
    );
  }
  const allowedOrigins = options.allowedOrigins ?? [];
  const streams = new StreamRegistry();
  let ui: Promise<Map<string, UiAsset> | null> | undefined;

  const app = new Hono<{ Bindings: NodeBindings }>().basePath(base || '/');
  const remoteAddress = (env: NodeBindings | undefined): string | null =>
    env?.incoming?.socket?.remoteAddress ?? null;

  app.onError((error, c) => {
    const { status, body } = errorResponse(error);
    if (status >= 500 && !(error instanceof HttpError)) {
      logger.error('dashboard: request failed', { path: c.req.path, error });
    }
    return c.json(body, status as 500);
  });
  app.notFound((c) => c.json({ error: 'Not found.', code: 'NOT_FOUND' }, 404));

  // Probes and the webhook endpoint are never behind dashboard auth.
  app.route('/health', healthRoutes(options.client));
  if (options.webhooks !== false) {
    app.route('/api/webhook', webhookRoute(options.client, options.webhooks ?? {}, logger));
  }

  // Everything else: access control, then the CSRF rule for mutating methods.
  app.use('*', async (c, next) => {
    if (c.req.path.startsWith(`${base}/api/webhook/`) || c.req.path.startsWith(`${base}/health/`)) {
      return next();
    }
    const decision = await decideAccess(auth, c.req.raw, remoteAddress(c.env));
    if (!decision.allowed) {
      if (decision.challenge) c.header('www-authenticate', 'Basic realm="floworch", charset="UTF-8"');
      return c.json(
        { error: decision.reason, code: decision.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN' },
        decision.status,
      );
    }
    const method = c.req.method;
    if (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS') {
      if (!sameOriginAllowed(c.req.raw, allowedOrigins)) {
        return c.json({ error: 'Cross-origin request refused.', code: 'CSRF' }, 403);
      }
    }
    return next();
  });
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: options.maxBodyBytes ?? 1_048_576,
      onError: (c) => c.json({ error: 'The request body is too large.', code: 'BODY_TOO_LARGE' }, 413),
    }),
  );
  app.use('*', async (c, next) => {
    await next();
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'same-origin');
    if (!c.res.headers.has('cache-control')) c.header('cache-control', 'no-store');
  });

  app.route('/api', apiRoutes(options.client, { events: options.events ?? {}, streams, logger }));

  // The web UI: one page, hash-routed, assets built into dist/ui.
  const page = async (): Promise<Response> => {
    ui ??= loadUi(options.uiDir);
    const files = await ui;
    const html = files?.get('index.html');
    if (!html)
      return new Response(MISSING_UI_PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } });
    const text = Buffer.from(html.body)
      .toString('utf8')
      .replace(BASE_META, `<meta name="floworch-base" content="${base}">`)
      .replaceAll('./assets/', `${base}/assets/`);
    return new Response(text, {
      headers: {
        'content-type': html.contentType,
        'content-security-policy':
          "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        'x-frame-options': 'DENY',
      },
    });
  };
  app.get('/', () => page());
  if (base) app.get('', () => page());
  app.get('/assets/:file', async (c) => {
    ui ??= loadUi(options.uiDir);
    const asset = (await ui)?.get(c.req.param('file'));
    if (!asset || c.req.param('file') === 'index.html')
      return c.json({ error: 'Not found.', code: 'NOT_FOUND' }, 404);
    return new Response(asset.body, {
      headers: { 'content-type': asset.contentType, 'cache-control': 'no-cache' },
    });
  });

  const listener = getRequestListener((request, env) => app.fetch(request, env as NodeBindings));
  const underBase = (path: string): boolean => base === '' || path === base || path.startsWith(`${base}/`);

  const nodeListener: Dashboard['nodeListener'] = (req, res, next) => {
    // Express strips a mount path from req.url; the dashboard routes on the full path.
    const original = (req as IncomingMessage & { originalUrl?: string }).originalUrl;
    if (original !== undefined) req.url = original;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!underBase(path)) {
      if (next) return next();
      res.statusCode = 404;
      res.end();
      return;
    }
    void listener(req, res);
  };

  return {
    basePath: base,
    app,
    fetch: (request) => Promise.resolve(app.fetch(request, {})),
    nodeListener,
    fastifyHook(request, reply, done) {
      const path = (request.raw.url ?? '/').split('?')[0] ?? '/';
      if (!underBase(path)) return done();
      reply.hijack();
      void listener(request.raw, reply.raw);
    },
    async close() {
      streams.closeAll();
    },
  };
}
