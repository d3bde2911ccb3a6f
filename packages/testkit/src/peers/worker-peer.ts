import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type Clock, FlowOrchError, type FlowStorage } from '@floworch/core';
import type { AbortMarker, HostRequest, HostResponse, StoreShape, WireError } from './protocol.js';
import type { WorkerHostData } from './worker-host.js';

/** Options of {@link openWorkerPeer}. */
export interface WorkerPeerOptions {
  /**
   * The module that creates the store inside the worker: a file URL or absolute path. Its export
   * (see `exportName`) is called as `factory(options, { clock })` and returns a `FlowStorage`
   * (or a promise of one) that opens its own connections to the shared data.
   */
  readonly module: string | URL;
  /** Name of the factory export (default `default`). */
  readonly exportName?: string;
  /** Handed to the factory; must survive structured clone (no functions, no class instances). */
  readonly options?: unknown;
  /** The clock the suite gave `setup`; the worker's store reads "now" from it on every call. */
  readonly clock: Clock;
  /**
   * Modules imported inside the worker before the factory module, for their side effects.
   * Resolved from the working directory. (A factory module ending in `.ts` is loaded through tsx
   * without this; tsx must then be installed.)
   */
  readonly preload?: readonly string[];
  /** Node flags for the worker, e.g. `['--conditions=development']`. */
  readonly execArgv?: readonly string[];
}

/**
 * Opens a store in a worker thread and returns a proxy for it: every method call is posted to
 * the worker and answered from there. Use it as `openPeer` so the race cases run truly in
 * parallel even for a driver whose calls block the thread (a synchronous SQLite binding): each
 * peer then has its own thread and its own connection, like a separate process.
 *
 * Values cross by structured clone (dates, maps, sets kept); errors come back with their class
 * name, message and own fields such as `code`, as a `FlowOrchError` when they carry a code; a
 * call aborted through its own `AbortSignal` rejects with that signal's `reason` itself.
 *
 * @example
 * ```ts
 * // peer-store.ts: export default (o: { file: string }, { clock }) => createSqliteStorage({ ...o, clock });
 * openPeer: () => openWorkerPeer({ module: new URL('./peer-store.js', import.meta.url), options: { file }, clock }),
 * ```
 */
export async function openWorkerPeer(options: WorkerPeerOptions): Promise<FlowStorage> {
  const module = options.module instanceof URL ? options.module.href : toFileHref(options.module);
  const data: WorkerHostData = {
    module,
    exportName: options.exportName ?? 'default',
    options: options.options,
    now: options.clock.now().getTime(),
  };
  const worker = new Worker(bootstrap(options.preload ?? [], /\.[cm]?ts$/.test(new URL(module).pathname)), {
    eval: true,
    workerData: data,
    execArgv: [...(options.execArgv ?? [])],
  });
  const shape = await new Promise<StoreShape>((resolve, reject) => {
    const onMessage = (message: HostResponse) => {
      worker.off('error', reject);
      worker.off('message', onMessage);
      if (message.type === 'ready') resolve(message.shape);
      else if (message.type === 'failed') reject(fromWireError(message.error));
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  return new WorkerPeerClient(worker, options.clock).proxy(shape);
}

/** The main-thread side of one worker: numbers calls and settles them from the answers. */
class WorkerPeerClient {
  private nextId = 1;
  private nextSignalId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: unknown) => void; signals: AbortSignal[] }
  >();
  private readonly signalIds = new WeakMap<AbortSignal, number>();
  private closed: Promise<void> | null = null;

  constructor(
    private readonly worker: Worker,
    private readonly clock: Clock,
  ) {
    worker.on('message', (message: HostResponse) => this.settle(message));
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => this.failAll(new Error(`worker peer exited with code ${code}`)));
  }

  /** A `FlowStorage` whose contracts forward every method the worker's store has. */
  proxy(shape: StoreShape): FlowStorage {
    const bundle: Record<string, unknown> = {
      name: shape.name,
      clock: this.clock,
      capabilities: Object.freeze([...shape.capabilities]),
      close: () => this.close(),
    };
    for (const [contract, methods] of Object.entries(shape.contracts)) {
      const forward: Record<string, unknown> = {};
      for (const method of methods)
        forward[method] = (...args: unknown[]) => this.call([contract, method], args);
      bundle[contract] = forward;
    }
    if (shape.hasPing) bundle.ping = (...args: unknown[]) => this.call(['ping'], args);
    return bundle as unknown as FlowStorage;
  }

  private call(path: string[], args: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('worker peer is closed'));
    const signals: AbortSignal[] = [];
    const encoded = args.map((arg) => this.encode(arg, signals));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, signals });
      const request: HostRequest = { type: 'call', id, path, args: encoded, now: this.clock.now().getTime() };
      try {
        this.worker.postMessage(request);
      } catch (error) {
        // Not cloneable (a function in a value): fail the call like a store would reject it.
        this.pending.delete(id);
        reject(error);
      }
    });
  }

  /** Replaces an `AbortSignal` argument (or option) by a marker and forwards its abort. */
  private encode(arg: unknown, signals: AbortSignal[]): unknown {
    if (arg instanceof AbortSignal) return this.marker(arg, signals);
    if (isPlainObject(arg) && Object.values(arg).some((v) => v instanceof AbortSignal)) {
      return Object.fromEntries(
        Object.entries(arg).map(([k, v]) => [k, v instanceof AbortSignal ? this.marker(v, signals) : v]),
      );
    }
    return arg;
  }

  private marker(signal: AbortSignal, signals: AbortSignal[]): AbortMarker {
    signals.push(signal);
    let id = this.signalIds.get(signal);
    if (id === undefined) {
      const signalId = this.nextSignalId++;
      id = signalId;
      this.signalIds.set(signal, signalId);
      const forward = () => this.post({ type: 'abort', signalId, reason: cloneableReason(signal.reason) });
      signal.addEventListener('abort', forward, { once: true });
    }
    // Already aborted: say so in the call itself, so the worker never sees it live.
    return signal.aborted
      ? { __floworchAbortSignal: id, abortedWith: cloneableReason(signal.reason) }
      : { __floworchAbortSignal: id };
  }

  private post(message: HostRequest): void {
    if (!this.closed) this.worker.postMessage(message);
  }

  private settle(message: HostResponse): void {
    if (message.type !== 'result' && message.type !== 'error') return;
    const call = this.pending.get(message.id);
    if (!call) return;
    this.pending.delete(message.id);
    if (message.type === 'result') {
      call.resolve(message.value);
      return;
    }
    // Abort means "reject with signal.reason": hand back the caller's own reason object.
    const aborted = message.aborted ? call.signals.find((s) => s.aborted) : undefined;
    call.reject(aborted ? aborted.reason : fromWireError(message.error));
  }

  private failAll(error: unknown): void {
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
  }

  private close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      const onMessage = (message: HostResponse) => {
        if (message.type !== 'closed') return;
        this.worker.off('message', onMessage);
        void this.worker.terminate().then(() => resolve());
      };
      this.worker.on('message', onMessage);
      this.worker.once('exit', () => resolve());
      this.worker.postMessage({ type: 'close' } satisfies HostRequest);
    });
    return this.closed;
  }
}

/**
 * The worker's entry: the tsx hooks when TypeScript must be loaded (this package running from its
 * sources, or a factory module written in TypeScript), the preloads, then the host module.
 */
function bootstrap(preload: readonly string[], typescriptFactory: boolean): string {
  const here = import.meta.url;
  const ext = extname(fileURLToPath(here));
  const host = new URL(`./worker-host${ext}`, here).href;
  const loaders = ext === '.ts' || typescriptFactory ? [tsxApi()] : [];
  const steps = [
    ...loaders.map((l) => `await import(${JSON.stringify(l)}).then((m) => m.register());`),
    ...preload.map((p) => `await import(${JSON.stringify(p)});`),
    `await (await import(${JSON.stringify(host)})).runWorkerHost();`,
  ];
  return `(async () => {\n${steps.join('\n')}\n})().catch((e) => { require('node:worker_threads').parentPort.postMessage({ type: 'failed', error: { name: e?.name ?? 'Error', message: String(e?.message ?? e), stack: e?.stack, props: {} } }); });`;
}

/** tsx's ESM register API (its `import` entry; `require.resolve` would give the CommonJS one). */
function tsxApi(): string {
  let manifest: string;
  try {
    manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  } catch {
    // Not next to the testkit: look from the project that runs the tests.
    manifest = createRequire(pathToFileURL(`${process.cwd()}/`).href).resolve('tsx/package.json');
  }
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  return pathToFileURL(join(dirname(manifest), pkg.exports['./esm/api']!.import.default)).href;
}

function toFileHref(path: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(path) && !/^[a-z]:[\\/]/i.test(path) ? path : pathToFileURL(path).href;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;
}

/** An abort reason that survives structured clone (errors do; anything else becomes text). */
function cloneableReason(reason: unknown): unknown {
  try {
    structuredClone(reason);
    return reason;
  } catch {
    return String(reason);
  }
}

/** Re-creates an error from the worker: a `FlowOrchError` when it has a code, else an `Error`. */
function fromWireError(wire: WireError): Error {
  const code = wire.props.code;
  const error = typeof code === 'string' ? new FlowOrchError(code, wire.message) : new Error(wire.message);
  Object.assign(error, wire.props);
  Object.defineProperty(error, 'name', { value: wire.name, configurable: true, writable: true });
  if (wire.stack) error.stack = wire.stack;
  return error;
}
