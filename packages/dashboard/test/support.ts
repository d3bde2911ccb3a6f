import { randomBytes } from 'node:crypto';
import {
  createFlowOrchestrator,
  type FlowDefinition,
  type FlowOrchestrator,
  type FlowOrchestratorOptions,
  silentLogger,
} from '@floworch/core';
import { createPostgresStorage, type PostgresStorage } from '@floworch/postgresql';
import pg from 'pg';
import { inject } from 'vitest';

/** The server URL chosen by the global setup ('' when none), and how it was found. */
export const pgUrl: string = inject('pgUrl');
export const pgSource: string = inject('pgSource');

/** A schema of its own for one test file, dropped by the returned function. */
export async function isolatedSchema(prefix: string): Promise<{ schema: string; drop: () => Promise<void> }> {
  const schema = `${prefix}_${randomBytes(5).toString('hex')}`;
  return {
    schema,
    drop: async () => {
      const admin = new pg.Pool({ connectionString: pgUrl, max: 1 });
      try {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** A PostgreSQL storage on `schema` (each call its own pool and LISTEN connections: a replica). */
export function storageOn(schema: string): Promise<PostgresStorage> {
  return createPostgresStorage({ connectionString: pgUrl, schema, maxConnections: 4 });
}

/** A started orchestrator with quick polling and short leases, for tests. */
export async function startOrchestrator(
  storage: PostgresStorage,
  flows: FlowDefinition[],
  handlers: FlowOrchestratorOptions['handlers'],
  extra: Partial<FlowOrchestratorOptions> = {},
): Promise<FlowOrchestrator> {
  const orchestrator = createFlowOrchestrator({
    storage,
    flows,
    handlers,
    logger: silentLogger,
    pollIntervalMs: 100,
    maintenanceIntervalMs: 0,
    leaseMs: 2_000,
    shutdownGraceMs: 200,
    cron: false,
    ...extra,
  });
  await orchestrator.start();
  return orchestrator;
}

/** One server-sent event. */
export interface SseMessage {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: string;
}

/** An open event stream read with fetch; comments are kept (heartbeats). */
export interface SseReader {
  readonly messages: SseMessage[];
  readonly comments: string[];
  /** Resolves with the first message (after the ones already seen) matching `match`. */
  next(match: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>;
  /** Resolves when a comment line matching `pattern` arrives. */
  comment(pattern: RegExp, timeoutMs?: number): Promise<string>;
  close(): void;
}

/** Opens `url` as an event stream and parses it as it arrives. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  if (response.status !== 200)
    throw new Error(`stream answered ${response.status}: ${await response.text()}`);
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of waiters) w();
  };
  void (async () => {
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let event = 'message';
          let id: string | undefined;
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('id:')) id = line.slice(3).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (data.length > 0) messages.push({ event, id, data: data.join('\n') });
          notify();
          cut = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted
    }
  })();
  const wait = <T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found === undefined) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(messages.slice(-5))}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return {
    messages,
    comments,
    next: (match, timeoutMs = 10_000) => wait(() => messages.find(match), timeoutMs, 'an event'),
    comment: (pattern, timeoutMs = 10_000) =>
      wait(() => comments.find((c) => pattern.test(c)), timeoutMs, 'a comment'),
    close: () => controller.abort(),
  };
}

/** Basic-auth header value. */
export const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value other than undefined (or throws after `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(50);
  }
}
