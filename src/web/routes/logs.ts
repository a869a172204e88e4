/**
 * The pilot log server (apf-behaviour §6.1): `baseLogDir` served read-only at APF's own paths
 * (`/<YYYY-MM-DD>/<queue>/<cluster>.<proc>.out`, so GTAG and the +APF_*URL links keep working),
 * the same tree under `/logs/` (with the root listing; `/` belongs to the monitor), and
 * `/robots.txt`.
 *
 * `/:date/*` matches every path of one segment or more, so these routes must come LAST in the
 * server's route list; a first segment that is not a date is a 404 here.
 */
import { hostname } from 'node:os';
import type { WebDeps } from '../deps.ts';
import { HttpError, type Route, type WebRequest, type WebResponse } from '../router.ts';
import { LogRefusedError, serveLogPath } from '../../logserver/serve.ts';

/** A day directory's name (UTC date), as the submit path writes it. */
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `robots.txt`: everything disallowed unless `logserver.allowrobots` (APF wrote the same file). */
export function robotsTxt(allowRobots: boolean): string {
  return allowRobots ? 'User-agent: *\nDisallow:\n' : 'User-agent: *\nDisallow: /\n';
}

async function serve(req: WebRequest, deps: WebDeps, mount: '' | '/logs'): Promise<WebResponse> {
  const f = deps.config().factory;
  if (!f.web.logserver.enabled) throw new HttpError(404, 'not found (logserver.enabled = False)');
  const rawPath = req.url.pathname.slice(mount.length);
  const log = deps.logger;
  try {
    const res = await serveLogPath(
      { rawPath, headers: req.headers },
      { root: f.baseLogDir, index: f.web.logserver.index, mount, host: hostname(), port: f.web.port },
    );
    if (log.isLevelEnabled('debug')) log.debug({ component: 'logserver', path: req.url.pathname, status: res.status, remote: req.remoteAddress }, 'log request');
    return res;
  } catch (err) {
    if (err instanceof HttpError && log.isLevelEnabled('debug')) {
      const reason = err instanceof LogRefusedError ? err.reason : err.message;
      log.debug({ component: 'logserver', path: req.url.pathname, status: err.status, reason, remote: req.remoteAddress }, 'log request refused');
    }
    throw err;
  }
}

/** The log server's routes (mount them after every other route). */
export const logRoutes: readonly Route[] = [
  {
    method: 'GET',
    pattern: '/robots.txt',
    handler: (_req, deps) => ({
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: robotsTxt(deps.config().factory.web.logserver.allowRobots),
    }),
  },
  { method: 'GET', pattern: '/logs/*', handler: (req, deps) => serve(req, deps, '/logs') },
  {
    method: 'GET',
    pattern: '/:date/*',
    accept: (params) => DAY.test(params['date'] ?? ''),
    handler: (req, deps) => {
      if (!DAY.test(req.params['date'] ?? '')) throw new HttpError(404, 'not found');
      return serve(req, deps, '');
    },
  },
];
