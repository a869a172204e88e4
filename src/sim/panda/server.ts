/**
 * The PanDA simulator: a small HTTP server (node:http, no framework) that answers like a PanDA
 * server and a CRIC instance for the calls a pilot factory makes. It is a test tool — NOT PanDA.
 *
 * Data endpoints:
 * - `GET /api/v1/statistics/active_job_stats_by_site` — the v1 envelope `{success, message, data}`
 *   as JSON when the request has `Accept: application/json`, else Python `str(dict)` text; like
 *   the real server the Content-Type is `text/plain` either way. Other verbs: `success:false`.
 * - `GET /api/v1/system/is_alive` — `{"success": true, "message": "", "data": null}`.
 * - `GET|POST /server/panda/getJobStatisticsWithLabel[?site=A,B]` — pickle protocol 0 (Python 3
 *   style) of `{site: {label: {status: n}}}`.
 * - `GET|POST /server/panda/getJobStatisticsPerSite` — pickle of `{site: {status: n}}`.
 * - `GET /server/panda/isAlive` — `alive=yes`.
 * - `GET /cric/api/atlas/pandaqueue/query/?json` — CRIC-like dict keyed by queue with `status`,
 *   `panda_resource`, `nickname`.
 * - anything else: 404 `not found`.
 *
 * Control endpoints (for tests and demos):
 * - `GET /_sim/faults` — the active fault list; `POST /_sim/faults` — JSON fault or array of
 *   faults, replaces the list; `DELETE /_sim/faults` — clears it.
 * - `POST /_sim/scenario` — JSON scenario: replaces the scenario and its faults, restarts t at 0.
 * - `GET /_sim/state` — `{t, queues: {name: {status, counts}}}` at this moment.
 * Invalid control bodies get 400 with `{"error": "<APF_ERR_SIM message>"}`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApfError, isApfError } from '../../errors.ts';
import { cricDump, perLabelStats, perSiteStats } from './bodies.ts';
import { encodePickle0, pyRepr, type PyValue } from './encode.ts';
import {
  activeFault,
  parseFaults,
  parseScenario,
  queueStateAt,
  type PandaScenario,
  type SimFault,
  type SimFaultInput,
} from './scenario.ts';

/** Options of {@link startPandaSim}. */
export interface PandaSimOptions {
  /** TCP port; 0 picks a free one. @defaultValue 0 */
  readonly port?: number;
  /** Address to listen on. @defaultValue 127.0.0.1 */
  readonly host?: string;
  /** The validated scenario (see `parseScenario` / `loadScenario`). */
  readonly scenario: PandaScenario;
  /** Clock in epoch ms (injectable: tests step the timeline without waiting). @defaultValue Date.now */
  readonly now?: () => number;
}

/** A running simulator. */
export interface PandaSim {
  /** Base URL, e.g. `http://127.0.0.1:40123` (use it as `wmsstatus.panda.url`). */
  readonly url: string;
  /** URL of the CRIC-like dump (use it as `wmsstatus.panda.sitestatus.url`). */
  readonly cricUrl: string;
  /** Stops listening and drops every connection, hanging ones included. */
  close(): Promise<void>;
  /** Adds a fault (`from` defaults to 0, no `to` = until cleared). */
  setFault(fault: SimFaultInput): void;
  /** Removes every fault, scheduled ones included. */
  clearFaults(): void;
  /** Replaces the scenario (and its faults) and restarts the timeline at t = 0. */
  setScenario(scenario: PandaScenario): void;
  /** Seconds since the timeline started. */
  elapsedSeconds(): number;
  /** Requests received per endpoint name (`stats`, `label`, `site`, `cric`, `alive`, `control`, `unknown`). */
  requestCounts(): Readonly<Record<string, number>>;
}

type Endpoint = 'stats' | 'label' | 'site' | 'cric' | 'alive';

const ROUTES: ReadonlyMap<string, Endpoint> = new Map([
  ['/api/v1/statistics/active_job_stats_by_site', 'stats'],
  ['/api/v1/system/is_alive', 'alive'],
  ['/server/panda/getJobStatisticsWithLabel', 'label'],
  ['/server/panda/getJobStatisticsPerSite', 'site'],
  ['/server/panda/isAlive', 'alive'],
  ['/cric/api/atlas/pandaqueue/query', 'cric'],
  ['/cric/api/atlas/pandaqueue/query/', 'cric'],
]);

const TRACEBACK =
  'Traceback (most recent call last):\n  File "/opt/panda/lib/python3/pandaserver/server/panda.py", line 312, in application\n' +
  'Exception: simulated internal error (PanDA simulator, not PanDA)\n';
const GARBAGE = Buffer.concat([
  Buffer.from('<html><head><title>502 Proxy Error</title></head><body>simulated garbage '),
  Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x93]),
  Buffer.from('</body></html>\n'),
]);
const MAX_CONTROL_BODY = 1024 * 1024;

/** Starts the simulator; resolves once it listens. */
export async function startPandaSim(options: PandaSimOptions): Promise<PandaSim> {
  const now = options.now ?? Date.now;
  let scenario = options.scenario;
  let faults: SimFault[] = [...scenario.faults];
  let startedAt = now();
  const timers = new Set<NodeJS.Timeout>();
  const counts: Record<string, number> = {};
  const elapsed = (): number => (now() - startedAt) / 1000;

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer): void => {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  const sendJson = (res: ServerResponse, status: number, value: unknown): void => {
    send(res, status, 'application/json', `${JSON.stringify(value)}\n`);
  };

  /** The v1 envelope, JSON or Python text depending on the Accept header. */
  const envelope = (req: IncomingMessage, res: ServerResponse, success: boolean, message: string, data: PyValue): void => {
    const wantsJson = (req.headers.accept ?? '').includes('application/json');
    const env: PyValue = { success, message, data };
    send(res, 200, 'text/plain; charset=utf-8', wantsJson ? JSON.stringify(env) : pyRepr(env));
  };

  const answer = (endpoint: Endpoint, req: IncomingMessage, res: ServerResponse, url: URL, fault: SimFault | undefined): void => {
    const t = elapsed();
    const decimal = fault?.kind === 'decimal';
    switch (endpoint) {
      case 'stats':
        if (req.method !== 'GET') return envelope(req, res, false, `expecting GET, received ${req.method ?? ''}`, null);
        return envelope(req, res, true, '', perSiteStats(scenario, t));
      case 'alive':
        if (url.pathname.startsWith('/server/')) return send(res, 200, 'text/plain', 'alive=yes');
        return envelope(req, res, true, '', null);
      case 'label': {
        const siteParam = url.searchParams.get('site');
        const sites = siteParam === null || siteParam === '' ? undefined : new Set(siteParam.split(',').map((s) => s.trim()));
        return send(res, 200, 'text/plain', encodePickle0(perLabelStats(scenario, t, sites, decimal)));
      }
      case 'site':
        return send(res, 200, 'text/plain', encodePickle0(perSiteStats(scenario, t, decimal)));
      case 'cric':
        return sendJson(res, 200, cricDump(scenario, t));
    }
  };

  const faulted = (endpoint: Endpoint, req: IncomingMessage, res: ServerResponse, url: URL, fault: SimFault): void => {
    switch (fault.kind) {
      case 'hang':
        return; // hold the connection; close() destroys it
      case '500':
        return send(res, 500, 'text/plain', TRACEBACK);
      case 'garbage':
        return send(res, 200, 'text/plain', GARBAGE);
      case 'success-false':
        if (endpoint === 'stats' || (endpoint === 'alive' && url.pathname.startsWith('/api/'))) {
          return envelope(req, res, false, 'Database failure getting the job statistics', {});
        }
        if (endpoint === 'cric') return sendJson(res, 200, { success: false, message: 'simulated CRIC failure' });
        return send(res, 200, 'text/plain', 'False : simulated failure (PanDA simulator)');
      case 'slow': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          answer(endpoint, req, res, url, undefined);
        }, fault.delayMs ?? 5000);
        timers.add(timer);
        return;
      }
      case 'decimal':
        return answer(endpoint, req, res, url, fault);
    }
  };

  const control = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    try {
      if (path === '/_sim/faults' && req.method === 'GET') return sendJson(res, 200, faults);
      if (path === '/_sim/faults' && req.method === 'DELETE') {
        faults = [];
        res.writeHead(204).end();
        return;
      }
      if (path === '/_sim/faults' && req.method === 'POST') {
        faults = parseFaults(await readJson(req));
        return sendJson(res, 200, faults);
      }
      if (path === '/_sim/scenario' && req.method === 'POST') {
        sim.setScenario(parseScenario(await readJson(req)));
        return sendJson(res, 200, { queues: [...scenario.queues.keys()], faults: faults.length });
      }
      if (path === '/_sim/state' && req.method === 'GET') {
        const t = elapsed();
        const queues = Object.fromEntries(
          [...scenario.queues].map(([name, q]) => {
            const s = queueStateAt(q, t);
            return [name, { status: s.status, counts: Object.fromEntries(s.counts) }];
          }),
        );
        return sendJson(res, 200, { t, queues });
      }
      return send(res, 404, 'text/plain', 'not found');
    } catch (err) {
      if (isApfError(err, 'APF_ERR_SIM')) return sendJson(res, 400, { error: err.message });
      throw err;
    }
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    const path = url.pathname;
    if (path.startsWith('/_sim/')) {
      counts['control'] = (counts['control'] ?? 0) + 1;
      control(req, res, path).catch((err: unknown) => {
        if (!res.headersSent) send(res, 500, 'text/plain', `simulator error: ${String(err)}`);
      });
      return;
    }
    const endpoint = ROUTES.get(path);
    counts[endpoint ?? 'unknown'] = (counts[endpoint ?? 'unknown'] ?? 0) + 1;
    if (endpoint === undefined) return send(res, 404, 'text/plain', 'not found');
    const fault = activeFault(faults, endpoint, elapsed());
    if (fault === undefined) answer(endpoint, req, res, url, undefined);
    else faulted(endpoint, req, res, url, fault);
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code ?? err.message;
      reject(new ApfError('APF_ERR_SIM', `cannot listen on ${host}:${options.port ?? 0}: ${code}`, { cause: err }));
    });
    server.listen(options.port ?? 0, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const sim: PandaSim = {
    url: base,
    cricUrl: `${base}/cric/api/atlas/pandaqueue/query/?json`,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
    setFault(fault) {
      faults.push(...parseFaults(fault));
    },
    clearFaults() {
      faults = [];
    },
    setScenario(next) {
      scenario = next;
      faults = [...next.faults];
      startedAt = now();
    },
    elapsedSeconds: elapsed,
    requestCounts: () => ({ ...counts }),
  };
  return sim;
}

/** Reads a small JSON request body. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_CONTROL_BODY) throw new ApfError('APF_ERR_SIM', `control body larger than ${MAX_CONTROL_BODY} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ApfError('APF_ERR_SIM', `control body is not JSON: ${(err as Error).message}`, { cause: err });
  }
}
