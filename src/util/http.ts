/**
 * HTTP requests with deadlines (PanDA, CRIC, `http(s)://` config sources, apfmon).
 *
 * One undici {@link Agent} per process (keep-alive pools per origin) with explicit timeouts,
 * because undici's defaults (300 s for headers and body) are far longer than a factory cycle.
 * Every request also has an overall deadline that covers all its retries: a hung server can
 * delay a caller by at most `timeoutMs`, never more.
 *
 * Credentials written in a URL (`https://user:pass@host/…`) are sent as a Basic `Authorization`
 * header and never appear in messages, error details or logs (see {@link redactUrl}).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent, Dispatcher } from 'undici';
import { ApfError } from '../errors.ts';
import { onFirstUse } from './on-first-use.ts';

/**
 * undici's module, imported on the first request rather than with this file: the config loader
 * and the PanDA plugins import this file, and an instance that makes no HTTP request (or none yet)
 * should not carry undici (about 10 MiB of RSS; docs/decisions.md).
 */
const loadUndici = onFirstUse(() => import('undici'));

/** Loads the HTTP client now rather than on the first request (before a privilege drop). */
export async function loadHttpClient(): Promise<void> {
  await loadUndici();
}

/** Timeouts of the shared agent, in milliseconds. */
export interface HttpAgentOptions {
  /** TCP + TLS connection establishment. @defaultValue 10 000 */
  readonly connectTimeoutMs?: number;
  /** From request sent to complete response headers. @defaultValue 30 000 */
  readonly headersTimeoutMs?: number;
  /** Longest silence between two body chunks. @defaultValue 30 000 */
  readonly bodyTimeoutMs?: number;
  /** Idle keep-alive sockets are closed after this. @defaultValue 4 000 */
  readonly keepAliveTimeoutMs?: number;
}

/** The agent timeouts used unless {@link configureHttpAgent} changes them. */
export const HTTP_AGENT_DEFAULTS: Required<HttpAgentOptions> = Object.freeze({
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 30_000,
  keepAliveTimeoutMs: 4_000,
});

let agentOptions: Required<HttpAgentOptions> = HTTP_AGENT_DEFAULTS;
let agent: Agent | undefined;

/** The process's shared agent (created, and undici loaded, on first use). */
export async function httpAgent(): Promise<Dispatcher> {
  const { Agent } = await loadUndici();
  agent ??= new Agent({
    connect: { timeout: agentOptions.connectTimeoutMs },
    headersTimeout: agentOptions.headersTimeoutMs,
    bodyTimeout: agentOptions.bodyTimeoutMs,
    keepAliveTimeout: agentOptions.keepAliveTimeoutMs,
    // Grid servers behind old Apache/mod_gridsite front-ends speak HTTP/1.1 only.
    allowH2: false,
  });
  return agent;
}

/**
 * Replaces the shared agent's timeouts (unset fields keep their defaults). Requests already in
 * flight finish on the old agent, which is then closed.
 */
export function configureHttpAgent(options: HttpAgentOptions): void {
  agentOptions = { ...HTTP_AGENT_DEFAULTS, ...options };
  const old = agent;
  agent = undefined;
  if (old !== undefined) void old.close().catch(() => undefined);
}

/** Closes the shared agent (process shutdown); a later request creates a new one. */
export async function closeHttpAgent(): Promise<void> {
  const old = agent;
  agent = undefined;
  if (old !== undefined) await old.close();
}

/** Options of {@link httpRequest} / {@link httpGet}. */
export interface HttpRequestOptions {
  /** Overall deadline for the whole call, retries and backoff included. @defaultValue 60 000 ms */
  readonly timeoutMs?: number;
  /** Cancels the call (shutdown, lost lease); the call then rejects with `APF_ERR_ABORTED`. */
  readonly signal?: AbortSignal;
  /** Request headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Extra attempts after a network error or an HTTP 429/500/502/503/504. Only idempotent methods
   * (GET, HEAD, PUT, DELETE, OPTIONS) are retried; a POST is sent once. @defaultValue 0
   */
  readonly retries?: number;
  /** Delay before the first retry; doubled at each further retry (max 30 s). @defaultValue 500 ms */
  readonly retryDelayMs?: number;
  /** Largest body accepted, in bytes; a larger one is an `APF_ERR_HTTP`. @defaultValue 64 MiB */
  readonly maxBytes?: number;
  /** How the body bytes become a string: `utf8`, or `latin1` to keep one char per byte (pickles). @defaultValue utf8 */
  readonly encoding?: 'utf8' | 'latin1';
  /** Per-request override of the agent's headers timeout (ms). */
  readonly headersTimeoutMs?: number;
  /** Per-request override of the agent's body timeout (ms). */
  readonly bodyTimeoutMs?: number;
  /** Request body (PUT/POST). */
  readonly body?: string;
  /** Use this dispatcher instead of the shared agent (e.g. one carrying an X.509 client certificate). */
  readonly dispatcher?: Dispatcher;
}

/** A response with a complete body. */
export interface HttpResponse {
  readonly status: number;
  /** Header names in lower case; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** HTTP methods {@link httpRequest} sends. */
export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE' | 'OPTIONS';

const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const MAX_BACKOFF_MS = 30_000;
/** Query parameters whose values are hidden in messages. */
const SECRET_PARAM = /token|passw|secret|key|auth|sig/i;

/**
 * A URL fit for messages and logs: user and password removed, values of secret-looking query
 * parameters replaced by `***`. Text that is not a URL is returned without anything after `@`
 * in its authority part.
 */
export function redactUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return String(url).replace(/\/\/[^/@]*@/, '//***@');
  }
  const hadCredentials = u.username !== '' || u.password !== '';
  u.username = '';
  u.password = '';
  for (const [k] of u.searchParams) {
    if (SECRET_PARAM.test(k) && u.searchParams.get(k) !== '') u.searchParams.set(k, '***');
  }
  const text = u.toString();
  return hadCredentials ? text.replace('//', '//***@') : text;
}

/** GET with deadline, retries and size limit; rejects on any non-2xx final status. */
export function httpGet(url: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  return httpRequest('GET', url, options);
}

/**
 * Sends one request, retrying transient failures inside the overall deadline. Resolves with a
 * 2xx response; rejects with `APF_ERR_HTTP` (connection failure, non-2xx status — `details.status`
 * —, oversize body), `APF_ERR_HTTP_TIMEOUT` (deadline or agent timeout) or `APF_ERR_ABORTED`.
 */
export async function httpRequest(method: HttpMethod, url: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const safeUrl = redactUrl(url);
  const what = `${method} ${safeUrl}`;
  const target = splitCredentials(url, what);
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal === undefined ? deadline : AbortSignal.any([options.signal, deadline]);
  const endAt = performance.now() + timeoutMs;
  const retries = IDEMPOTENT.has(method) ? Math.max(0, Math.floor(options.retries ?? 0)) : 0;
  let delay = options.retryDelayMs ?? 500;
  const headers: Record<string, string> = { ...options.headers };
  if (target.authorization !== undefined) headers['authorization'] = target.authorization;
  for (let attempt = 1; ; attempt++) {
    let outcome: { readonly error: ApfError; readonly retryable: boolean };
    try {
      const res = await once(method, target.url, headers, signal, options);
      if (res.status >= 200 && res.status < 300) return res;
      outcome = {
        retryable: RETRY_STATUSES.has(res.status),
        error: new ApfError('APF_ERR_HTTP', `${what}: HTTP ${res.status}${excerpt(res.body)}`, {
          details: { url: safeUrl, method, status: res.status, attempts: attempt },
        }),
      };
    } catch (err) {
      outcome = mapError(err, what, safeUrl, method, attempt, timeoutMs, deadline, options.signal);
    }
    if (!outcome.retryable || attempt > retries) throw outcome.error;
    const wait = Math.min(delay, MAX_BACKOFF_MS);
    // A retry that could not finish before the deadline is pointless: report the real failure.
    if (performance.now() + wait >= endAt) throw outcome.error;
    try {
      await sleep(wait, undefined, { signal });
    } catch (err) {
      throw mapError(err, what, safeUrl, method, attempt, timeoutMs, deadline, options.signal).error;
    }
    delay *= 2;
  }
}

/** One attempt. Resolves with any status; rejects on network errors, timeouts and oversize bodies. */
async function once(
  method: HttpMethod,
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
  options: HttpRequestOptions,
): Promise<HttpResponse> {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const { request } = await loadUndici();
  const res = await request(url, {
    method,
    headers,
    signal,
    dispatcher: options.dispatcher ?? (await httpAgent()),
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.headersTimeoutMs === undefined ? {} : { headersTimeout: options.headersTimeoutMs }),
    ...(options.bodyTimeoutMs === undefined ? {} : { bodyTimeout: options.bodyTimeoutMs }),
  });
  const ok = res.statusCode >= 200 && res.statusCode < 300;
  // For error statuses only the start of the body is kept (for the message); the rest is dropped.
  const limit = ok ? maxBytes : 4096;
  const declared = Number(res.headers['content-length']);
  if (ok && Number.isFinite(declared) && declared > maxBytes) {
    discard(res.body);
    throw tooLarge(declared, maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      discard(res.body);
      if (ok) throw tooLarge(size, maxBytes);
      chunks.push(chunk.subarray(0, chunk.length - (size - limit)));
      break;
    }
    chunks.push(chunk);
  }
  return {
    status: res.statusCode,
    headers: flattenHeaders(res.headers),
    body: Buffer.concat(chunks).toString(options.encoding ?? 'utf8'),
  };
}

/** Stops reading a body; the stream's own abort error is expected and swallowed. */
function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on('error', () => undefined);
  body.destroy();
}

class TooLarge extends Error {
  readonly maxBytes: number;
  constructor(size: number, maxBytes: number) {
    super(`body larger than ${maxBytes} bytes (at least ${size} received or announced)`);
    this.maxBytes = maxBytes;
  }
}

function tooLarge(size: number, maxBytes: number): TooLarge {
  return new TooLarge(size, maxBytes);
}

/** Removes user:password from the URL and turns them into a Basic Authorization value. */
function splitCredentials(url: string, what: string): { url: URL; authorization: string | undefined } {
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    throw new ApfError('APF_ERR_HTTP', `${what}: not a valid URL`, { cause: err, details: { url: redactUrl(url) } });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ApfError('APF_ERR_HTTP', `${what}: only http and https URLs are supported`, { details: { url: redactUrl(url) } });
  }
  if (u.username === '' && u.password === '') return { url: u, authorization: undefined };
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  return { url: u, authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
}

interface Mapped {
  readonly error: ApfError;
  readonly retryable: boolean;
}

const TIMEOUT_CODES: ReadonlySet<string> = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Classifies a thrown value: who aborted decides between deadline and cancellation. */
function mapError(
  err: unknown,
  what: string,
  url: string,
  method: string,
  attempts: number,
  timeoutMs: number,
  deadline: AbortSignal,
  caller: AbortSignal | undefined,
): Mapped {
  const details = { url, method, attempts };
  if (caller?.aborted === true) {
    return { retryable: false, error: new ApfError('APF_ERR_ABORTED', `${what}: cancelled`, { cause: err, details }) };
  }
  if (deadline.aborted) {
    return {
      retryable: false,
      error: new ApfError('APF_ERR_HTTP_TIMEOUT', `${what}: no complete answer within ${timeoutMs} ms (${attempts} attempt(s))`, {
        cause: err,
        details: { ...details, timeoutMs },
      }),
    };
  }
  if (err instanceof TooLarge) {
    return {
      retryable: false,
      error: new ApfError('APF_ERR_HTTP', `${what}: ${err.message}`, { details: { ...details, maxBytes: err.maxBytes } }),
    };
  }
  const code = errorCode(err);
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return {
      retryable: true,
      error: new ApfError('APF_ERR_HTTP_TIMEOUT', `${what}: ${timeoutKind(code)} (${attempts} attempt(s))`, {
        cause: err,
        details: { ...details, reason: code },
      }),
    };
  }
  const reason = code ?? (err instanceof Error ? err.name : 'error');
  return {
    retryable: true,
    error: new ApfError('APF_ERR_HTTP', `${what}: request failed: ${reason} (${attempts} attempt(s))`, {
      cause: err,
      details: { ...details, reason },
    }),
  };
}

function timeoutKind(code: string): string {
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connection not established in time';
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return 'no response headers in time';
  return 'response body stalled';
}

/** The `code` of a Node/undici error, looking one `cause` deep (fetch-style wrapping). */
function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/** `: <first line of the body>` (printable, at most 200 chars), or `''`. */
function excerpt(body: string): string {
  const line = body.split('\n', 1)[0]?.replace(/[^\x20-\x7e]/g, '?').trim() ?? '';
  if (line === '') return '';
  return `: ${line.length > 200 ? `${line.slice(0, 200)}…` : line}`;
}
