import { PGlite } from '@electric-sql/pglite';
import { StorageError } from '@floworch/core';
import { type LoggedLine, recordingLogger } from '@floworch/testkit';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { isFatalPgliteError } from '../src/connection/pglite-guard.js';
import { createPgliteStorage } from '../src/pglite.js';

describe('PGlite faults', () => {
  it('a closed instance fails every call fast with STORAGE_DRIVER_MISSING, logged once', async () => {
    const lines: LoggedLine[] = [];
    const pglite = new PGlite('memory://');
    const storage = await createPgliteStorage({ pglite, logger: recordingLogger(lines) });
    await storage.ping();
    await pglite.close(); // closed underneath the storage
    await expect(storage.ping()).rejects.toMatchObject({ code: 'STORAGE_DRIVER_MISSING' });
    await expect(storage.flows.getAll()).rejects.toBeInstanceOf(StorageError);
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
    await storage.close();
  });

  it('SQL errors pass through unchanged and the storage keeps working', async () => {
    const lines: LoggedLine[] = [];
    const storage = await createPgliteStorage({ logger: recordingLogger(lines) });
    await expect(sql`SELECT * FROM no_such_table`.execute(storage.db)).rejects.toMatchObject({
      code: '42P01',
    });
    await storage.ping();
    expect(lines).toEqual([]);
    await storage.close();
  });

  it('classifies closed instances and WebAssembly aborts as fatal, SQL errors not', () => {
    const open = { closed: false };
    expect(isFatalPgliteError({ closed: true }, new Error('x'))).toBe(true);
    expect(isFatalPgliteError(open, Object.assign(new Error('unreachable'), { name: 'RuntimeError' }))).toBe(
      true,
    );
    expect(isFatalPgliteError(open, new Error('PGlite is closed'))).toBe(true);
    expect(isFatalPgliteError(open, Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(
      false,
    );
  });
});
