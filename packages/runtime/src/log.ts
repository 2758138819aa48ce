// Optional logging. Only method, path template, status, timings and retry
// decisions are ever logged: never headers, bodies or query strings, so a
// token or secret cannot reach a log line.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';

/** Any object with these methods: `console`, pino, winston, ... */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, off: 99 };

export type Log = ((level: Exclude<LogLevel, 'off'>, message: string, fields: Record<string, unknown>) => void) | undefined;

export function createLog(logger: Logger | undefined, level: LogLevel = 'info'): Log {
  if (!logger || level === 'off') return undefined;
  const threshold = RANK[level];
  return (at, message, fields) => {
    if (RANK[at] >= threshold) logger[at](`[portico] ${message}`, fields);
  };
}

export function emit(log: Log, level: Exclude<LogLevel, 'off'>, message: string, fields: Record<string, unknown>): void {
  log?.(level, message, fields);
}
