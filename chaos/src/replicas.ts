import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChaosConfig } from './config.js';
import { type DriverMessage, ReplicaEnv, type ReplicaMessage } from './protocol.js';

/** How a replica process ended. */
export interface ReplicaExit {
  readonly slot: number;
  readonly pid: number;
  /** `killed`: our SIGKILL; `stopped`: our graceful stop, exit 0; `crashed`: anything else. */
  readonly kind: 'killed' | 'stopped' | 'crashed';
  readonly code: number | null;
  readonly signal: string | null;
  /** Last lines of its stderr (for crashes). */
  readonly tail: readonly string[];
}

/** A graceful stop as observed by the driver. */
export interface GracefulStop {
  readonly slot: number;
  readonly pid: number;
  /** How long `stop()` + `close()` took inside the replica (null: it never reported). */
  readonly stopMs: number | null;
  /** Handles still open after the stop (timers, sockets), as Node names them. */
  readonly lingering: readonly string[];
}

interface Live {
  readonly slot: number;
  readonly child: ChildProcess;
  readonly pid: number;
  ready: boolean;
  ending: 'kill' | 'stop' | null;
  readonly tail: string[];
}

const REPLICA_ENTRY = fileURLToPath(new URL('./replica.ts', import.meta.url));

/**
 * Starts, kills, stops and restarts the replica processes, and routes triggers to them. Every
 * process end is classified: our SIGKILL, our graceful stop (exit 0), or a crash.
 */
export class ReplicaSet {
  readonly exits: ReplicaExit[] = [];
  readonly stops: GracefulStop[] = [];
  /** Pids we SIGKILLed: their unfinished executions may legitimately run again elsewhere. */
  readonly killedPids = new Set<number>();
  /** Every pid that ever ran. */
  readonly pids = new Set<number>();
  private readonly live = new Map<number, Live>();
  private readonly logs = new Map<number, WriteStream>();
  private restarting = true;
  private onMessage: (slot: number, message: ReplicaMessage) => void = () => {};
  private onGone: (slot: number) => void = () => {};

  constructor(
    private readonly config: ChaosConfig,
    private readonly databaseUrl: string,
    private readonly logDir: string,
  ) {}

  /** Handlers for replica messages and for a replica going away (its pending triggers are lost). */
  listen(onMessage: (slot: number, m: ReplicaMessage) => void, onGone: (slot: number) => void): void {
    this.onMessage = onMessage;
    this.onGone = onGone;
  }

  /** Starts every slot and waits until all are ready. */
  async startAll(): Promise<void> {
    await Promise.all(Array.from({ length: this.config.replicas }, (_, slot) => this.start(slot)));
  }

  /** Slots whose replica is up and accepting triggers. */
  readySlots(): number[] {
    return [...this.live.values()].filter((r) => r.ready && r.ending === null).map((r) => r.slot);
  }

  /** Sends a message to the replica in `slot`; false when it is not ready. */
  send(slot: number, message: DriverMessage): boolean {
    const replica = this.live.get(slot);
    if (!replica?.ready || replica.ending || !replica.child.connected) return false;
    replica.child.send(message);
    return true;
  }

  /** SIGKILLs the replica in `slot`; it is restarted shortly after. */
  kill(slot: number): number | null {
    const replica = this.live.get(slot);
    if (!replica || replica.ending) return null;
    replica.ending = 'kill';
    this.killedPids.add(replica.pid);
    replica.child.kill('SIGKILL');
    return replica.pid;
  }

  /** Asks the replica in `slot` to stop gracefully; resolves when the process has ended. */
  async stop(slot: number): Promise<void> {
    const replica = this.live.get(slot);
    if (!replica || replica.ending) return;
    replica.ending = 'stop';
    const ended = new Promise<void>((resolve) => replica.child.once('exit', () => resolve()));
    replica.child.send({ type: 'stop' } satisfies DriverMessage);
    // A stop that never ends is a finding too: record it and kill the process.
    const limit = setTimeout(() => {
      this.stops.push({ slot, pid: replica.pid, stopMs: null, lingering: ['stop() did not finish'] });
      replica.child.kill('SIGKILL');
    }, this.config.shutdownGraceMs + 15_000);
    await ended;
    clearTimeout(limit);
  }

  /** Stops every replica gracefully and restarts none. */
  async stopAll(): Promise<void> {
    this.restarting = false;
    await Promise.all([...this.live.keys()].map((slot) => this.stop(slot)));
  }

  /** Starts the replica of `slot` (again) and resolves once it reports ready. */
  start(slot: number): Promise<void> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@floworch/source', REPLICA_ENTRY],
      {
        env: {
          ...process.env,
          [ReplicaEnv.url]: this.databaseUrl,
          [ReplicaEnv.slot]: String(slot),
          [ReplicaEnv.leaseMs]: String(this.config.leaseMs),
          [ReplicaEnv.maintenanceIntervalMs]: String(this.config.maintenanceIntervalMs),
          [ReplicaEnv.shutdownGraceMs]: String(this.config.shutdownGraceMs),
        },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    const pid = child.pid ?? -1;
    this.pids.add(pid);
    const replica: Live = { slot, child, pid, ready: false, ending: null, tail: [] };
    this.live.set(slot, replica);
    const log = this.logFor(slot);
    log.write(`--- replica ${slot} pid ${pid} started ${new Date().toISOString()}\n`);
    child.stdout?.pipe(log, { end: false });
    child.stderr?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      replica.tail.push(...chunk.toString().split('\n').filter(Boolean));
      replica.tail.splice(0, Math.max(0, replica.tail.length - 20));
    });
    return new Promise<void>((resolve) => {
      child.on('message', (message: ReplicaMessage) => {
        if (message.type === 'ready') {
          replica.ready = true;
          resolve();
        } else if (message.type === 'stopped') {
          this.stops.push({ slot, pid, stopMs: message.stopMs, lingering: message.lingering });
        }
        this.onMessage(slot, message);
      });
      child.on('exit', (code, signal) => {
        const kind =
          replica.ending === 'kill'
            ? 'killed'
            : replica.ending === 'stop' && code === 0
              ? 'stopped'
              : 'crashed';
        this.exits.push({ slot, pid, kind, code, signal, tail: [...replica.tail] });
        log.write(`--- replica ${slot} pid ${pid} ended (${kind}, code ${code}, signal ${signal})\n`);
        if (this.live.get(slot) === replica) this.live.delete(slot);
        this.onGone(slot);
        resolve(); // a replica that dies before ready still unblocks startAll
        // Killed and crashed replicas come back (as a supervisor would restart them).
        if (this.restarting && kind !== 'stopped') {
          setTimeout(() => {
            if (this.restarting) void this.start(slot);
          }, 300);
        }
      });
    });
  }

  /** Closes the log files. */
  async close(): Promise<void> {
    for (const replica of this.live.values()) replica.child.kill('SIGKILL');
    await Promise.all([...this.logs.values()].map((s) => new Promise<void>((r) => s.end(() => r()))));
  }

  private logFor(slot: number): WriteStream {
    let log = this.logs.get(slot);
    if (!log) {
      log = createWriteStream(join(this.logDir, `replica-${slot}.log`), { flags: 'a' });
      this.logs.set(slot, log);
    }
    return log;
  }
}
