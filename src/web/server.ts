/**
 * The instance's HTTP server (monitor, JSON API, admin API, metrics, health, pilot logs), built
 * without listening so tests drive it in-process on port 0. Every request is isolated: an error in
 * a handler is a 500 for that request only, and nothing here is on a cycle's path.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { Readable, pipeline } from 'node:stream';
import { describeError } from '../errors.ts';
import { http } from '../util/builtin-http.ts';
import type { WebDeps } from './deps.ts';
import { HttpError, compile, json, type Route, type WebRequest, type WebResponse } from './router.ts';

/** Default largest request body (admin POSTs are tiny). */
const BODY_LIMIT = 64 * 1024;

/** True when the Authorization header carries `token` (constant-time compare). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (m === null) return false;
  const a = Buffer.from(m[1] as string);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      reject(new HttpError(413, `request body over ${limit} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new HttpError(413, `request body over ${limit} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, r: WebResponse, head: boolean): void {
  res.statusCode = r.status;
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v);
  if (r.body === undefined || head) {
    if (r.body instanceof Readable) r.body.destroy();
    res.end();
  } else if (r.body instanceof Readable) {
    // pipeline destroys the source when the client goes away (no leaked file descriptors)
    pipeline(r.body, res, () => undefined);
  } else res.end(r.body);
}

/** Builds the server over `routes` (not listening). */
export function buildServer(deps: WebDeps, routes: readonly Route[]): Server {
  const match = compile(routes);
  const log = deps.logger.child({ component: 'web' });
  return http.createServer((req, res) => {
    void (async () => {
      const method = req.method ?? 'GET';
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://localhost');
      } catch {
        send(res, json({ error: 'bad request URL' }, 400), false);
        return;
      }
      const head = method === 'HEAD';
      try {
        const m = match(method, url.pathname);
        if (!('route' in m)) {
          if (m.allowed.length > 0) {
            send(res, { ...json({ error: `method ${method} not allowed` }, 405), headers: { allow: [...new Set(m.allowed)].join(', '), 'content-type': 'application/json' } }, head);
          } else send(res, json({ error: 'not found' }, 404), head);
          return;
        }
        if (m.route.admin === true) {
          const token = deps.adminToken();
          if (token === undefined) throw new HttpError(403, 'admin actions are disabled (no web.admin_token_file)');
          const auth = req.headers.authorization;
          if (auth === undefined) {
            send(res, { ...json({ error: 'admin token required' }, 401), headers: { 'www-authenticate': 'Bearer realm="apf"', 'content-type': 'application/json' } }, head);
            return;
          }
          if (!bearerMatches(auth, token)) throw new HttpError(403, 'wrong admin token');
        }
        const wreq: WebRequest = {
          method,
          url,
          params: m.params,
          headers: req.headers,
          remoteAddress: req.socket.remoteAddress ?? '',
          body: (limit = BODY_LIMIT) => readBody(req, limit),
        };
        send(res, await m.route.handler(wreq, deps), head);
      } catch (err) {
        if (err instanceof HttpError) {
          send(res, json({ error: err.message }, err.status), head);
          return;
        }
        log.error({ err: describeError(err), path: url.pathname }, 'request failed');
        if (!res.headersSent) send(res, json({ error: 'internal error' }, 500), head);
        else res.destroy();
      }
    })();
  });
}

/** Listens on `port`/`host`; resolves with the bound port. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a !== null ? a.port : port);
    });
  });
}
