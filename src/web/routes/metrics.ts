/** `GET /metrics`: this instance's Prometheus metrics in the text exposition format. */
import type { Route } from '../router.ts';

/** The metrics route (the body comes from `WebDeps.metrics`, i.e. `Metrics.exposition()`). */
export const metricsRoutes: readonly Route[] = [
  {
    method: 'GET',
    pattern: '/metrics',
    handler: async (_req, deps) => {
      const m = await deps.metrics();
      return { status: 200, headers: { 'content-type': m.contentType, 'cache-control': 'no-store' }, body: m.body };
    },
  },
];
