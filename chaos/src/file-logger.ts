import { appendFileSync } from 'node:fs';
import type { LogFields, Logger } from '@floworch/core';

/** A logger appending JSON lines to `path` (the driver's own storages: keeps the report readable). */
export function fileLogger(path: string, base: LogFields = {}): Logger {
  const write = (level: string) => (msg: string, fields?: LogFields) => {
    appendFileSync(path, `${JSON.stringify({ level, msg, ...base, ...fields })}\n`);
  };
  return {
    debug: () => {},
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (fields) => fileLogger(path, { ...base, ...fields }),
  };
}
