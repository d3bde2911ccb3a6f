import type { FlowClient, Logger } from '@floworch/core';
import { EventLogCursor } from './cursor.js';

/** Tuning of the Server-Sent Events stream. */
export interface EventStreamOptions {
  /** A comment line is sent when nothing else was for this long (default 15 000 ms). */
  readonly heartbeatMs?: number;
  /** Longest pause between two reads of the event log (default 1 000 ms). */
  readonly pollIntervalMs?: number;
  /** How long a hole in the sequence is waited for (default 5 000 ms; see `EventLogCursor`). */
  readonly gapGraceMs?: number;
  /** Reconnection delay suggested to browsers (default 2 000 ms). */
  readonly retryMs?: number;
}

/** What one stream needs. */
export interface StreamRequest {
  /** Start after this sequence (Last-Event-ID), or null for "from now". */
  readonly after: number | null;
  /** Only events of this run. */
  readonly runId?: string;
}

/** Open streams, so `close()` can end them. */
export class StreamRegistry {
  private readonly open = new Set<() => void>();

  /** Registers a stream's closer; returns the function that unregisters it. */
  add(close: () => void): () => void {
    this.open.add(close);
    return () => this.open.delete(close);
  }

  /** Number of open streams. */
  get size(): number {
    return this.open.size;
  }

  /** Ends every open stream. */
  closeAll(): void {
    for (const close of [...this.open]) close();
  }
}

const encoder = new TextEncoder();

/**
 * A `text/event-stream` response of run and step events read from the stored event log, so it
 * shows what every replica did. Each event is a default (`message`) event whose data is the
 * JSON of a `StoredEventView` and whose `id` is the resume point: a reconnect sending it as
 * `Last-Event-ID` misses nothing (and may see a few events again; dedupe by `sequence`). A
 * `ready` event opens the stream; comment lines keep idle connections alive.
 */
export async function eventStreamResponse(
  client: FlowClient,
  request: StreamRequest,
  options: EventStreamOptions,
  registry: StreamRegistry,
  logger: Logger,
): Promise<Response> {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const pollMs = options.pollIntervalMs ?? 1_000;
  // Before the response starts, so a backend without an event log is answered with an error.
  const newest = await client.lastEventSequence();
  // An id from the future (the log was reset) would hide every new event: start at the newest.
  const start = request.after === null ? newest : Math.min(request.after, newest);
  const cursor = new EventLogCursor(client, {
    after: start,
    ...(options.gapGraceMs !== undefined && { gapGraceMs: options.gapGraceMs }),
  });
  let closed = false;
  let wake: (() => void) | undefined;
  let pending = false;
  const cleanup: Array<() => void> = [];
  const finish = (): void => {
    if (closed) return;
    closed = true;
    for (const undo of cleanup.splice(0)) undo();
    wake?.();
  };

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string): void => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          finish();
        }
      };
      cleanup.push(
        client.onEventsAppended(() => {
          pending = true;
          wake?.();
        }),
      );
      cleanup.push(registry.add(() => finish()));
      cleanup.push(() => {
        try {
          controller.close();
        } catch {
          // already closed by the reader
        }
      });
      send(`retry: ${options.retryMs ?? 2_000}\n`);
      send(`event: ready\nid: ${start}\ndata: ${JSON.stringify({ lastEventId: start })}\n\n`);
      void (async () => {
        let lastWrite = Date.now();
        let failures = 0;
        while (!closed) {
          pending = false;
          try {
            const events = await cursor.read();
            failures = 0;
            for (const event of events) {
              if (request.runId !== undefined && event.runId !== request.runId) continue;
              const id = Math.min(cursor.watermark, event.sequence);
              send(`id: ${id}\ndata: ${JSON.stringify(event)}\n\n`);
              lastWrite = Date.now();
            }
          } catch (error) {
            failures++;
            if (failures === 1) logger.warn('dashboard: reading the event log failed; retrying', { error });
          }
          if (closed) break;
          if (Date.now() - lastWrite >= heartbeatMs) {
            send(`: heartbeat ${new Date().toISOString()}\n\n`);
            lastWrite = Date.now();
          }
          if (pending) continue;
          const pause = Math.min(pollMs * 2 ** Math.min(failures, 4), heartbeatMs);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pause);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
      })();
    },
    cancel() {
      finish();
    },
  });

  return new Response(body, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    },
  });
}
