/** `/healthz` (the process answers) and `/readyz` (Redis reachable, configuration valid). */
import { json, type Route } from '../router.ts';

export const healthRoutes: readonly Route[] = [
  { method: 'GET', pattern: '/healthz', handler: () => json({ ok: true }) },
  {
    method: 'GET',
    pattern: '/readyz',
    handler: async (_req, deps) => {
      const r = await deps.ready();
      return json(r, r.ok ? 200 : 503);
    },
  },
];
