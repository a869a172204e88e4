/**
 * Every route of the web server, in one list: health, JSON API, admin API, metrics, the monitor,
 * and the log server last (its `/:date/*` pattern matches any path of one segment or more).
 */
import type { Route } from '../router.ts';
import { adminRoutes, type AdminRoutesOptions } from './admin.ts';
import { apiRoutes } from './api.ts';
import { healthRoutes } from './health.ts';
import { logRoutes } from './logs.ts';
import { metricsRoutes } from './metrics.ts';
import { monitorRoutes } from './monitor.ts';

/** Every route; `opts` reaches the admin routes (tests inject a drill starter). */
export function allRoutes(opts: AdminRoutesOptions = {}): readonly Route[] {
  return [...healthRoutes, ...apiRoutes, ...adminRoutes(opts), ...metricsRoutes, ...monitorRoutes, ...logRoutes];
}

/** Every route, with the real drill runner. */
export const ALL_ROUTES: readonly Route[] = allRoutes();
