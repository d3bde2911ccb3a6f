/** Structured fields attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** A minimal structured logger; adapt pino, winston or console to it. */
export interface Logger {
  /** Fine-grained diagnostics. */
  debug(message: string, fields?: LogFields): void;
  /** Normal operation. */
  info(message: string, fields?: LogFields): void;
  /** Something unexpected that the engine handled. */
  warn(message: string, fields?: LogFields): void;
  /** A failure that needs attention. */
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** Writes warnings and errors to the console as JSON-ish lines; drops debug and info. */
export function consoleLogger(
  base: LogFields = {},
  level: 'debug' | 'info' | 'warn' | 'error' = 'warn',
): Logger {
  const order = { debug: 0, info: 1, warn: 2, error: 3 } as const;
  const write = (lvl: keyof typeof order, message: string, fields?: LogFields) => {
    if (order[lvl] < order[level]) return;
    const line = { level: lvl, msg: message, ...base, ...fields };
    (lvl === 'error' ? console.error : lvl === 'warn' ? console.warn : console.log)(
      JSON.stringify(line, safeReplacer),
    );
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => consoleLogger({ ...base, ...fields }, level),
  };
}

function safeReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
