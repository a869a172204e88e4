/**
 * A tiny router over node:http (no framework): routes are `{ method, pattern, handler }` values
 * listed in `src/web/routes/*.ts`; patterns are paths with `:name` segments (URI-decoded, so queue
 * names with `/`, `:` or spaces travel as %-escapes) and an optional trailing `*` (rest of path).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { WebDeps } from './deps.ts';

/** What a handler sees of a request. */
export interface WebRequest {
  readonly method: string;
  readonly url: URL;
  /** The path after routing, decoded per segment. */
  readonly params: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string;
  /** The body, at most `limit` bytes (413 beyond). */
  body(limit?: number): Promise<Buffer>;
}

/** What a handler answers. */
export interface WebResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string | number>>;
  readonly body?: string | Buffer | Readable;
}

/** A route handler. */
export type Handler = (req: WebRequest, deps: WebDeps) => WebResponse | Promise<WebResponse>;

/** One route. */
export interface Route {
  readonly method: 'GET' | 'POST';
  /** `/api/v1/queues/:name/pause`, `/logs/*` … */
  readonly pattern: string;
  readonly handler: Handler;
  /** Needs the admin bearer token (401 without, 403 wrong). */
  readonly admin?: boolean;
  /** Refuses a match on its parameters (e.g. `/:date/*` only for `YYYY-MM-DD` dates). */
  readonly accept?: (params: Readonly<Record<string, string>>) => boolean;
}

/** An error a handler throws to answer with a status (and a JSON `{error}` body). */
export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
  }
}

/** A JSON response. */
export function json(value: unknown, status = 200): WebResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, body: `${JSON.stringify(value, null, 2)}\n` };
}

/** An HTML response. */
export function html(body: string, status = 200): WebResponse {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, body };
}

/** Escapes text for HTML element content and attribute values. */
export function esc(text: string | number | null | undefined): string {
  return String(text ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

interface Compiled {
  readonly route: Route;
  readonly parts: readonly string[];
  readonly rest: boolean;
}

/** Compiles routes into a matcher. */
export function compile(routes: readonly Route[]): (method: string, path: string) => { route: Route; params: Record<string, string> } | { allowed: string[] } {
  const compiled: Compiled[] = routes.map((route) => {
    const rest = route.pattern.endsWith('/*');
    const parts = (rest ? route.pattern.slice(0, -2) : route.pattern).split('/').filter((p) => p !== '');
    return { route, parts, rest };
  });
  return (method, path) => {
    const raw = path.split('/').filter((p) => p !== '');
    const allowed: string[] = [];
    for (const c of compiled) {
      if (c.rest ? raw.length < c.parts.length : raw.length !== c.parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < c.parts.length && ok; i++) {
        const want = c.parts[i] as string;
        const got = raw[i] as string;
        if (want.startsWith(':')) {
          try {
            params[want.slice(1)] = decodeURIComponent(got);
          } catch {
            ok = false;
          }
        } else ok = want === got;
      }
      if (!ok) continue;
      if (c.rest) params['*'] = raw.slice(c.parts.length).join('/');
      if (c.route.accept?.(params) === false) continue;
      if (c.route.method === method || (method === 'HEAD' && c.route.method === 'GET')) return { route: c.route, params };
      allowed.push(c.route.method);
    }
    return { allowed };
  };
}
