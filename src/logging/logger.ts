/**
 * The root pino logger. Components take a {@link Logger} and derive children
 * (`log.child({ queue })`, `log.child({ plugin })`); nothing else creates loggers.
 * Secrets (passwords, tokens, authorization headers, credentials inside URLs) are redacted.
 */
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

/** The logger type every component accepts. */
export type Logger = PinoLogger;

/** Paths removed from every log record (static: never built from input). */
export const REDACT_PATHS: readonly string[] = [
  'password',
  '*.password',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'redisUrl',
  '*.redisUrl',
  'secret',
  '*.secret',
];

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** pino level name. @defaultValue `info` (or `$APF_LOG_LEVEL`) */
  level?: string;
  /** Where records go. @defaultValue stderr (stdout is kept for command output) */
  destination?: DestinationStream;
  /** Bindings added to every record (e.g. `{ instance }`). */
  base?: Record<string, unknown>;
}

/** Creates the process's root logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env['APF_LOG_LEVEL'] ?? 'info',
      base: options.base ?? {},
      redact: { paths: [...REDACT_PATHS], censor: '[Redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that discards everything (tests, `--quiet`). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
