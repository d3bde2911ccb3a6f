import { describe, it } from 'vitest';
import type { ConformanceFixture } from '../conformance/harness.js';
import { ENGINE_SCENARIOS } from './scenarios.js';
import { scenarioEngines } from './support.js';

/** Options of {@link defineEngineConformance}. */
export interface EngineConformanceOptions {
  /** Backend name shown in the titles. */
  readonly name: string;
  /**
   * A fresh, empty store per scenario, stamping time from the real clock (the engine waits on
   * real timers here). The backend must implement `runtime` and `control`.
   */
  readonly setup: (context: { testId: string }) => Promise<Omit<ConformanceFixture, 'openPeer'>>;
  /** Scenario ids (or `prefix*`) to skip, with the reason shown. */
  readonly skip?: Readonly<Record<string, string>>;
  /** Load factor for the many-run scenarios (default 1; e.g. 0.2 for a single-connection store). */
  readonly scale?: number;
  /** Per-scenario timeout in ms (default 60 000). */
  readonly timeoutMs?: number;
}

/**
 * Registers the engine scenarios with vitest: the real engine, run against
 * the backend, one test per scenario titled by its stable id.
 */
export function defineEngineConformance(options: EngineConformanceOptions): void {
  describe(`engine scenarios: ${options.name}`, () => {
    for (const scenario of ENGINE_SCENARIOS) {
      const reason = Object.entries(options.skip ?? {}).find(([pattern]) =>
        pattern.endsWith('*') ? scenario.id.startsWith(pattern.slice(0, -1)) : scenario.id === pattern,
      )?.[1];
      if (reason) {
        it.skip(`${scenario.id} — ${scenario.title} [skipped: ${reason}]`, () => {});
        continue;
      }
      it(`${scenario.id} — ${scenario.title}`, { timeout: options.timeoutMs ?? 60_000 }, async () => {
        const fixture = await options.setup({ testId: Math.random().toString(16).slice(2, 14) });
        const engines = scenarioEngines(fixture.storage, options.scale ?? 1);
        try {
          await scenario.run(engines.context);
        } finally {
          await engines.stopAll();
          await fixture.storage.close();
          await fixture.teardown?.();
        }
      });
    }
  });
}
