import type { LogFields, Logger } from '@floworch/core';

/** One line a {@link recordingLogger} kept. */
export interface LoggedLine {
  /** `debug`, `info`, `warn` or `error`. */
  level: 'debug' | 'info' | 'warn' | 'error';
  /** The message as logged. */
  message: string;
  /** The structured fields, when any were given. */
  fields?: LogFields;
}

/**
 * A logger that keeps every line in `lines` (children write to the same list), so a test can
 * check what a backend reported about a fault — and that it reported it once.
 */
export function recordingLogger(lines: LoggedLine[] = []): Logger & { readonly lines: LoggedLine[] } {
  const at =
    (level: LoggedLine['level']) =>
    (message: string, fields?: LogFields): void => {
      lines.push(fields === undefined ? { level, message } : { level, message, fields });
    };
  const logger: Logger & { readonly lines: LoggedLine[] } = {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return logger;
}
