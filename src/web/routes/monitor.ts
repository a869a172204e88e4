/**
 * The monitor: server-rendered HTML pages (no JavaScript needed) over the cluster's Redis state —
 * `/` (instances), `/instances/:id`, `/queues` (sortable, filterable), `/queues/:name` — and the
 * admin buttons behind a browser session: `/login` checks the admin token once and sets an
 * HttpOnly, SameSite=Strict cookie holding an HMAC of it; every button is a form POSTing to
 * `/ui/…` with a CSRF field, which calls the same src/core/admin.ts operations as the CLI and
 * redirects (303) back. The JSON admin API stays bearer-token only.
 */
import { ApfError, describeError, isApfError } from '../../errors.ts';
import { drainInstance, pauseQueue, reloadCluster, resumeQueue, runQueueNow, undrainInstance, type AdminContext, type AdminResult } from '../../core/admin.ts';
import { runDrill } from '../../core/drill.ts';
import type { WebDeps } from '../deps.ts';
import { html, HttpError, type Route, type WebRequest, type WebResponse } from '../router.ts';
import { loadInstance, loadOverview, loadQueueDetail, loadQueueTable } from '../views/data.ts';
import { renderInstance } from '../views/instance.ts';
import { messagePage, type ViewContext } from '../views/layout.ts';
import { renderLogin } from '../views/login.ts';
import { renderOverview } from '../views/overview.ts';
import { latestDrill, launchDrill } from '../drills.ts';
import { renderQueue } from '../views/queue.ts';
import { parseSort } from '../views/queue-columns.ts';
import { renderQueueTable } from '../views/queues.ts';
import {
  SESSION_COOKIE,
  SESSION_TTL_MS,
  csrfFor,
  csrfValid,
  issueSession,
  localPath,
  parseCookies,
  sessionCookie,
  sessionValid,
  tokenMatches,
} from '../views/session.ts';

/** Largest form body the monitor accepts. */
const FORM_LIMIT = 8 * 1024;

/**
 * The pages need no script, no image and no frame: the policy forbids them all (an injection that
 * escaped esc() would still not run), keeps forms on this server, and refuses framing (admin
 * buttons cannot be clickjacked). The one stylesheet is inline.
 */
export const MONITOR_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** An HTML page response with the monitor's security headers. */
function htmlPage(body: string, status = 200): WebResponse {
  const r = html(body, status);
  return { ...r, headers: { ...r.headers, 'content-security-policy': MONITOR_CSP, 'x-frame-options': 'DENY' } };
}

/** The visitor's valid session, if any. */
function sessionOf(req: WebRequest, deps: WebDeps): string | null {
  const value = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
  return sessionValid(value, deps.adminToken(), deps.now()) ? (value as string) : null;
}

function contextOf(req: WebRequest, deps: WebDeps): ViewContext {
  const token = deps.adminToken();
  const session = sessionOf(req, deps);
  return {
    now: deps.now(),
    self: deps.instanceId,
    version: deps.version,
    csrf: session !== null && token !== undefined ? csrfFor(session, token) : null,
    adminEnabled: token !== undefined,
    here: req.url.pathname + req.url.search,
  };
}

/** Renders a page; Redis trouble is a 503 page, not a bare 500. */
async function view(req: WebRequest, deps: WebDeps, render: (ctx: ViewContext) => Promise<WebResponse>): Promise<WebResponse> {
  const ctx = contextOf(req, deps);
  try {
    return await render(ctx);
  } catch (err) {
    if (!isApfError(err, 'APF_ERR_REDIS')) throw err;
    deps.logger.warn({ component: 'monitor', err: describeError(err), path: req.url.pathname }, 'monitor page without Redis');
    return htmlPage(messagePage(ctx, 'Redis unavailable', `the cluster state cannot be read right now: ${describeError(err)}`), 503);
  }
}

function redirect(location: string, cookie?: string): WebResponse {
  return { status: 303, headers: { location, 'cache-control': 'no-store', ...(cookie === undefined ? {} : { 'set-cookie': cookie }) } };
}

/** True when the visitor reached us over HTTPS (directly or through a proxy that says so). */
function secure(req: WebRequest): boolean {
  return req.url.protocol === 'https:' || String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() === 'https';
}

/** Reads an `application/x-www-form-urlencoded` body; null for any other content type. */
async function readForm(req: WebRequest): Promise<URLSearchParams | null> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return null;
  return new URLSearchParams((await req.body(FORM_LIMIT)).toString('utf8'));
}

/**
 * A browser that names an origin must name ours (`Origin: null`, sent under our no-referrer
 * policy, proves nothing either way and is left to the CSRF field).
 */
function sameOrigin(req: WebRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') return true;
  try {
    const host = new URL(origin).host;
    const forwarded = String(req.headers['x-forwarded-host'] ?? '').split(',')[0]?.trim();
    return host === req.headers.host || (forwarded !== undefined && forwarded !== '' && host === forwarded);
  } catch {
    return false;
  }
}

/** An admin operation behind a button. */
type UiAction = (ctx: AdminContext, req: WebRequest, form: URLSearchParams, deps: WebDeps) => Promise<AdminResult | string>;

/** Wraps an admin operation: session cookie, same origin, CSRF field, then the operation, then 303 back. */
function ui(action: UiAction): Route['handler'] {
  return async (req, deps) => {
    const ctx = contextOf(req, deps);
    const token = deps.adminToken();
    if (token === undefined) return htmlPage(messagePage(ctx, 'Admin actions disabled', 'this instance has no web.admin_token_file'), 403);
    const form = await readForm(req);
    if (form === null) return htmlPage(messagePage(ctx, 'Unsupported form', 'admin forms are sent as application/x-www-form-urlencoded'), 415);
    const back = localPath(form.get('back'));
    const session = sessionOf(req, deps);
    if (session === null) return htmlPage(messagePage(ctx, 'Log in first', 'your admin session is missing or has expired', `/login?next=${encodeURIComponent(back)}`), 401);
    if (!sameOrigin(req) || !csrfValid(form.get('csrf'), session, token)) {
      return htmlPage(messagePage(ctx, 'Refused', 'the form did not come from this monitor (CSRF check failed); reload the page and try again', back), 403);
    }
    const admin: AdminContext = { redis: deps.redis, keys: deps.keys, config: deps.config(), who: `monitor@${req.remoteAddress || 'unknown'}` };
    try {
      const r = await action(admin, req, form, deps);
      deps.logger.info({ component: 'monitor', who: admin.who, result: typeof r === 'string' ? r : r.message }, 'admin action from the monitor');
    } catch (err) {
      if (!isApfError(err, 'APF_ERR_USAGE')) throw err;
      const status = typeof err.details['status'] === 'number' ? err.details['status'] : 400;
      return htmlPage(messagePage(ctx, 'Not done', err.message, back), status);
    }
    return redirect(back);
  };
}

/** Starts a drill through the store the admin API uses (one drill at a time per instance). */
async function startDrill(admin: AdminContext, deps: WebDeps, instance: string | null): Promise<string> {
  try {
    await launchDrill(deps, admin, instance === null ? {} : { instance }, runDrill);
  } catch (err) {
    if (err instanceof HttpError) throw new ApfError('APF_ERR_USAGE', err.message, { details: { status: err.status } });
    throw err;
  }
  return `drill started${instance === null ? '' : ` on ${instance}`}`;
}

/** The monitor's routes (HTML pages, login, and the `/ui/…` admin forms). */
export const monitorRoutes: readonly Route[] = [
  {
    method: 'GET',
    pattern: '/',
    handler: (req, deps) => view(req, deps, async (ctx) => htmlPage(renderOverview(ctx, await loadOverview(deps), latestDrill(deps)))),
  },
  {
    method: 'GET',
    pattern: '/instances/:id',
    handler: (req, deps) =>
      view(req, deps, async (ctx) => {
        const id = req.params['id'] as string;
        const d = await loadInstance(deps, id);
        if (d === null) return htmlPage(messagePage(ctx, 'No such instance', `no instance "${id}" is registered`), 404);
        const f = deps.config().factory;
        return htmlPage(renderInstance(ctx, d, { factoryId: f.factoryId, factoryAdminEmail: f.factoryAdminEmail, baseLogDirUrl: f.baseLogDirUrl }));
      }),
  },
  {
    method: 'GET',
    pattern: '/queues',
    handler: (req, deps) =>
      view(req, deps, async (ctx) => {
        const p = req.url.searchParams;
        const { key, dir } = parseSort(p.get('sort'), p.get('dir'));
        return htmlPage(renderQueueTable(ctx, await loadQueueTable(deps), { sort: key, dir, q: (p.get('q') ?? '').slice(0, 200) }));
      }),
  },
  {
    method: 'GET',
    pattern: '/queues/:name',
    handler: (req, deps) =>
      view(req, deps, async (ctx) => {
        const name = req.params['name'] as string;
        const d = await loadQueueDetail(deps, name);
        if (d === null) return htmlPage(messagePage(ctx, 'No such queue', `no queue "${name}" in the configuration`, '/queues'), 404);
        return htmlPage(renderQueue(ctx, d, deps.config().factory.baseLogDirUrl));
      }),
  },
  {
    method: 'GET',
    pattern: '/login',
    handler: (req, deps) => htmlPage(renderLogin(contextOf(req, deps), localPath(req.url.searchParams.get('next')), null)),
  },
  {
    method: 'POST',
    pattern: '/login',
    handler: async (req, deps) => {
      const ctx = contextOf(req, deps);
      const token = deps.adminToken();
      const form = await readForm(req);
      const next = localPath(form?.get('next'));
      if (token === undefined) return htmlPage(renderLogin(ctx, next, null), 403);
      if (form === null || !tokenMatches(form.get('token') ?? '', token)) {
        deps.logger.warn({ component: 'monitor', from: req.remoteAddress }, 'monitor log-in with a wrong admin token');
        return htmlPage(renderLogin(ctx, next, 'wrong admin token'), 403);
      }
      deps.logger.info({ component: 'monitor', from: req.remoteAddress }, 'monitor admin log-in');
      return redirect(next, sessionCookie(issueSession(token, deps.now()), SESSION_TTL_MS / 1000, secure(req)));
    },
  },
  // Logging out needs no CSRF field: the worst a forged one does is end a session.
  { method: 'POST', pattern: '/logout', handler: (req) => redirect('/', sessionCookie('', 0, secure(req))) },
  { method: 'GET', pattern: '/logout', handler: (req) => redirect('/', sessionCookie('', 0, secure(req))) },
  { method: 'POST', pattern: '/ui/queues/:name/pause', handler: ui((a, req) => pauseQueue(a, req.params['name'] as string)) },
  { method: 'POST', pattern: '/ui/queues/:name/resume', handler: ui((a, req) => resumeQueue(a, req.params['name'] as string)) },
  { method: 'POST', pattern: '/ui/queues/:name/run', handler: ui((a, req) => runQueueNow(a, req.params['name'] as string)) },
  { method: 'POST', pattern: '/ui/instances/:id/drain', handler: ui((a, req) => drainInstance(a, req.params['id'] as string)) },
  { method: 'POST', pattern: '/ui/instances/:id/undrain', handler: ui((a, req) => undrainInstance(a, req.params['id'] as string)) },
  { method: 'POST', pattern: '/ui/reload', handler: ui((a) => reloadCluster(a)) },
  {
    method: 'POST',
    pattern: '/ui/drill',
    handler: ui((a, _req, form, deps) => startDrill(a, deps, form.get('instance') || null)),
  },
];
