import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@floworch/core';
import { describe, expect, it } from 'vitest';
import { createPgliteStorage } from '../src/pglite.js';

function recorder(lines: string[]): Logger {
  const logger: Logger = {
    debug: () => {},
    info: (message) => void lines.push(message),
    warn: (message) => void lines.push(`warn: ${message}`),
    error: (message) => void lines.push(`error: ${message}`),
    child: () => logger,
  };
  return logger;
}

describe('PGlite start-up', () => {
  it('caches an initialised cluster as a template and creates later fresh databases from it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'floworch-pglite-test-'));
    const cache = join(root, 'cache');
    const lines: string[] = [];
    try {
      const first = await createPgliteStorage({
        dataDir: join(root, 'a'),
        templateCache: cache,
        logger: recorder(lines),
      });
      await first.flows.save({ id: '0b5c2f0e-8a43-4a59-9d1a-6f3c1f1f0a01', name: 'A' });
      await first.close();
      expect(readdirSync(cache).filter((f) => f.endsWith('.tar'))).toHaveLength(1);
      const second = await createPgliteStorage({
        dataDir: join(root, 'b'),
        templateCache: cache,
        logger: recorder(lines),
      });
      expect(existsSync(join(root, 'b', 'PG_VERSION'))).toBe(true);
      expect(await second.flows.getAll()).toEqual([]); // a fresh, empty database, schema migrated
      await second.close();
      expect(lines.filter((l) => l.startsWith('warn') || l.startsWith('error'))).toEqual([]);
      // Progress, when printed, names what is happening.
      for (const line of lines) expect(line).toMatch(/PGlite database/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
