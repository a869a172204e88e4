/**
 * Coded errors. Every error apf raises on purpose is an {@link ApfError} whose `code` comes from
 * {@link ERROR_CODES}; code paths branch on `code`, never on the message. docs/errors.md documents
 * every code (a unit test keeps the two in step).
 */

/** Every error code apf uses, with a one-line meaning (also the default message). */
export const ERROR_CODES = {
  APF_ERR_USAGE: 'bad command-line usage',
  APF_ERR_CONFIG_SOURCE: 'a configuration source could not be read',
  APF_ERR_CONFIG_PARSE: 'a configuration file is not valid INI',
  APF_ERR_CONFIG_INTERPOLATION: 'a %(key)s interpolation failed (missing key or too deep)',
  APF_ERR_CONFIG_INVALID: 'the configuration is invalid',
  APF_ERR_PLUGIN_UNKNOWN: 'a configured plugin does not exist',
  APF_ERR_SCHED: 'a sched plugin could not compute its number',
  APF_ERR_WMS_UNAVAILABLE: 'the WMS status source is unavailable or stale',
  APF_ERR_WMS_RESPONSE: 'the WMS answered with a body that cannot be used',
  APF_ERR_PICKLE: 'a pickle body uses an opcode the safe decoder refuses',
  APF_ERR_BATCH_UNAVAILABLE: 'the batch status source is unavailable or stale',
  APF_ERR_BATCH_OUTPUT: 'a batch command printed output that cannot be parsed',
  APF_ERR_SUBMIT_FAILED: 'pilot submission failed',
  APF_ERR_RETIRE_FAILED: 'pilot removal (retire) failed',
  APF_ERR_COMMAND_FAILED: 'an external command exited with an error',
  APF_ERR_COMMAND_TIMEOUT: 'an external command passed its deadline and was killed',
  APF_ERR_HTTP: 'an HTTP request failed',
  APF_ERR_HTTP_TIMEOUT: 'an HTTP request passed its deadline',
  APF_ERR_SNAPSHOT_INVALID: 'a plan snapshot file is invalid',
  APF_ERR_SIM: 'a simulator was given bad input',
  APF_ERR_ABORTED: 'the operation was cancelled',
  APF_ERR_LEASE_LOST: 'the queue lease was lost or its local deadline passed: nothing more is submitted',
  APF_ERR_REDIS: 'Redis could not be reached or answered with an error',
  APF_ERR_PRIVILEGES: 'the process cannot run as the requested user (unknown user, still root, drop failed)',
  APF_ERR_LOG_FILE: 'the log file cannot be opened or reopened',
} as const;

/** One of the documented error codes. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Options for {@link ApfError}. */
export interface ApfErrorOptions {
  /** The underlying error, kept as ES2022 `cause`. */
  cause?: unknown;
  /** Structured details safe to log (never secrets). */
  details?: Readonly<Record<string, unknown>>;
}

/** Base class of every deliberate apf error. */
export class ApfError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Structured details (file, line, key, stderr…). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message?: string, options: ApfErrorOptions = {}) {
    super(message ?? ERROR_CODES[code], options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApfError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** True when `err` is an {@link ApfError} (optionally with the given code). */
export function isApfError(err: unknown, code?: ErrorCode): err is ApfError {
  return err instanceof ApfError && (code === undefined || err.code === code);
}

/** A short, single-line description of any thrown value, for decision reasons and CLI output. */
export function describeError(err: unknown): string {
  if (err instanceof ApfError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
