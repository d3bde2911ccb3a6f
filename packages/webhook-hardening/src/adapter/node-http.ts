import type { IncomingMessage, ServerResponse } from 'node:http';
import { jsonResponse } from '../decision.js';
import type { WebhookReceiver } from './receiver.js';

/**
 * The request body as a web stream with back-pressure. Written by hand rather than with
 * `Readable.toWeb` because cancelling that stream mid-upload (the body cap does) makes Node throw
 * `ERR_INVALID_STATE` on the next chunk. After a cancel the rest of the upload is discarded.
 */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  let done = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.on('data', (chunk: Buffer) => {
        if (done) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.once('end', () => {
        if (!done) controller.close();
        done = true;
      });
      req.once('error', (error) => {
        if (!done) controller.error(error);
        done = true;
      });
    },
    pull() {
      req.resume();
    },
    cancel() {
      done = true;
      req.resume();
    },
  });
}

/**
 * Converts a `node:http` request into a Fetch `Request` without buffering: the body streams, so
 * the pipeline's cap stops an oversized upload early.
 */
export function toFetchRequest(req: IncomingMessage, origin?: string): Request {
  const host = req.headers.host ?? 'localhost';
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
  const url = new URL(req.url ?? '/', origin ?? `${secure ? 'https' : 'http'}://${host}`);
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return new Request(url, {
    method: req.method ?? 'GET',
    headers,
    ...(hasBody ? { body: bodyStream(req), duplex: 'half' } : {}),
  } as RequestInit);
}

/** Writes a Fetch `Response` to a `node:http` response. */
export async function writeFetchResponse(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    res.setHeader(name, value);
  });
  const body = Buffer.from(await response.arrayBuffer());
  res.end(body);
}

/** Options of {@link createNodeWebhookListener}. */
export interface NodeWebhookListenerOptions {
  /** Path prefix; deliveries go to `POST {basePath}/{idOrSlug}` (default `/webhooks`). */
  readonly basePath?: string;
  /** Public origin (`https://hooks.example.com`) used to rebuild the URL URL-signing dialects sign. */
  readonly origin?: string;
}

/** The decoded `{idOrSlug}` segment, or `null` when it is malformed (a stray `%`). */
function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/**
 * A `node:http` request listener serving `POST {basePath}/{idOrSlug}`; other paths, and paths that
 * do not decode, get 404 and other methods 405. A refusal answered before the upload was read
 * closes the connection rather than draining it. Works with `http.createServer`, and with Express
 * or Fastify's raw handlers.
 */
export function createNodeWebhookListener(
  receiver: WebhookReceiver,
  options: NodeWebhookListenerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const base = (options.basePath ?? '/webhooks').replace(/\/+$/, '');
  return (req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const match = path.startsWith(`${base}/`) ? path.slice(base.length + 1) : null;
      const idOrSlug = match && !match.includes('/') ? decodeSegment(match) : null;
      let response: Response;
      if (idOrSlug === null) {
        response = jsonResponse(404, { error: 'Not found.' });
      } else if (req.method !== 'POST') {
        response = jsonResponse(405, { error: 'Use POST.' }, { allow: 'POST' });
      } else {
        const request = toFetchRequest(req, options.origin);
        response = await receiver.handle(request, idOrSlug, {
          remoteAddress: req.socket.remoteAddress ?? null,
        });
      }
      // An unread upload (refused on its headers, over the cap, too slow) is not worth draining.
      if (!req.complete) res.setHeader('connection', 'close');
      await writeFetchResponse(res, response);
    })().catch((error: unknown) => {
      if (!res.headersSent) res.statusCode = 500;
      res.end();
      req.emit('webhook-error', error);
    });
  };
}
