/**
 * The APF monitor (apfmon) client (apf-behaviour §5.1): for every queue whose `monitorsection`
 * names a monitor.conf section with `monitorplugin = APF` and a `monitorURL`, it registers the
 * factory (`PUT /factories/<id>`), learns the known labels (`GET /labels?factory=`), registers a
 * label the first time one of its cycles is seen (`PUT /labels`), reports the pilots a cycle
 * submitted (`PUT /jobs`) and its message (`POST /labels/<fid>:<label>`).
 *
 * Monitoring must never slow or fail a cycle: {@link Apfmon.onCycle} only queues work on a
 * bounded serial lane per monitor and returns at once; every call has a deadline; failures are
 * counted and logged (debug each, warn after N in a row), never thrown.
 */
import type { ApfConfig, QueueConfig } from '../config/types.ts';
import type { CycleRecord } from '../coordination/records.ts';
import { ApfError, describeError, isApfError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import { httpRequest, redactUrl, type HttpMethod, type HttpRequestOptions, type HttpResponse } from '../util/http.ts';
import {
  LABELS_PAGE,
  factoryCall,
  jobsCall,
  labelsPutCall,
  labelsQueryCall,
  monitorBase,
  parseLabelNames,
  statusCall,
  type ApfmonCall,
} from './apfmon-protocol.ts';
import { Lane } from './lane.ts';

/** The HTTP function used (src/util/http.ts `httpRequest` unless a test injects another). */
export type ApfmonHttp = (method: HttpMethod, url: string, options: HttpRequestOptions) => Promise<HttpResponse>;

/** Options of {@link createApfmon}. */
export interface ApfmonOptions {
  /** The configuration in use (read at every cycle: a reload may add monitors or queues). */
  readonly config: () => ApfConfig;
  readonly logger: Logger;
  /** @defaultValue httpRequest */
  readonly http?: ApfmonHttp;
  /** apf's version, sent in the factory registration. @defaultValue `unknown` */
  readonly version?: string;
  /** Deadline of one call. @defaultValue 10 000 ms */
  readonly timeoutMs?: number;
  /** A monitor that failed this many calls in a row is warned about (and again every as many). @defaultValue 5 */
  readonly warnAfterFailures?: number;
  /** Calls waiting per monitor; beyond, new calls are dropped (and counted). @defaultValue 1000 */
  readonly queueCapacity?: number;
  /** How long {@link Apfmon.close} lets queued calls finish before aborting them. @defaultValue 2000 ms */
  readonly closeTimeoutMs?: number;
}

/** Call counters. */
export interface ApfmonStats {
  /** Calls answered 200/201/204/206. */
  readonly ok: number;
  /** Calls that failed (network, timeout, other status). */
  readonly failed: number;
  /** Calls never sent: the monitor's queue was full, or close() gave up on them. */
  readonly dropped: number;
}

/** A running apfmon client. */
export interface Apfmon {
  /** Reports a finished cycle. Returns immediately; never throws. */
  onCycle(record: CycleRecord): void;
  /** Lets queued calls finish (bounded by `closeTimeoutMs`), then aborts the rest. */
  close(): Promise<void>;
  stats(): ApfmonStats;
}

/** Statuses apfmon answers on success (APF accepted 201/204/206; apfmon also answers 200). */
const SUCCESS: ReadonlySet<number> = new Set([200, 201, 204, 206]);
/** Most label pages read at start-up. */
const MAX_LABEL_PAGES = 40;

/** One monitor server (monitor.conf sections with the same URL share it). */
interface MonitorState {
  readonly base: string;
  readonly lane: Lane;
  /** Label names the server knows (filled by the start-up GET, then by our PUTs). */
  readonly known: Set<string>;
  /** Labels whose registration is queued. */
  readonly registering: Set<string>;
  failuresInRow: number;
}

/** The base URLs of the APF monitors of `queue` (sections with `monitorplugin = APF` and a URL). */
export function apfMonitorUrls(config: ApfConfig, queue: QueueConfig): string[] {
  const out = new Set<string>();
  for (const name of queue.monitorsections) {
    const m = config.monitors.get(name);
    if (m === undefined || m.plugin.trim().toLowerCase() !== 'apf' || m.url === undefined || m.url.trim() === '') continue;
    out.add(monitorBase(m.url));
  }
  return [...out];
}

/** Starts the client and registers the factory with every monitor the enabled queues use. */
export function createApfmon(o: ApfmonOptions): Apfmon {
  const http = o.http ?? httpRequest;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const warnAfter = Math.max(1, o.warnAfterFailures ?? 5);
  const capacity = o.queueCapacity ?? 1000;
  const log = o.logger.child({ component: 'apfmon' });
  const monitors = new Map<string, MonitorState>();
  let ok = 0;
  let failed = 0;
  let dropped = 0;
  let closed = false;

  /** Sends one call; resolves with the response on success, undefined on failure (counted, logged). */
  const send = async (m: MonitorState, call: ApfmonCall, signal: AbortSignal): Promise<HttpResponse | undefined> => {
    const where = { monitor: redactUrl(m.base), call: call.kind, method: call.method, url: redactUrl(call.url) };
    try {
      const res = await http(call.method, call.url, {
        timeoutMs,
        signal,
        retries: 0,
        maxBytes: 4 * 1024 * 1024,
        ...(call.body === undefined ? {} : { body: call.body }),
        ...(call.contentType === undefined ? {} : { headers: { 'content-type': call.contentType } }),
      });
      if (!SUCCESS.has(res.status)) {
        throw new ApfError('APF_ERR_HTTP', `${call.method} ${redactUrl(call.url)}: unexpected HTTP ${res.status}`, { details: { status: res.status } });
      }
      ok += 1;
      if (m.failuresInRow >= warnAfter) log.info({ ...where, after: m.failuresInRow }, 'apfmon answers again');
      m.failuresInRow = 0;
      return res;
    } catch (err) {
      failed += 1;
      m.failuresInRow += 1;
      const status = isApfError(err) ? err.details['status'] : undefined;
      log.debug({ ...where, status, err: describeError(err) }, 'apfmon call failed');
      if (m.failuresInRow % warnAfter === 0) {
        log.warn({ monitor: where.monitor, failuresInRow: m.failuresInRow, last: describeError(err) }, 'apfmon keeps failing (monitoring only: cycles are not affected)');
      }
      return undefined;
    }
  };

  const push = (m: MonitorState, task: (signal: AbortSignal) => Promise<void>): void => {
    if (m.lane.push(task)) return;
    dropped += 1;
    if (dropped === 1 || dropped % 100 === 0) log.warn({ monitor: redactUrl(m.base), dropped, capacity }, 'apfmon queue full: calls dropped');
  };

  /** The monitor's state; a new monitor first gets the factory registration and the label query. */
  const monitorOf = (base: string, config: ApfConfig): MonitorState => {
    const existing = monitors.get(base);
    if (existing !== undefined) return existing;
    const state: MonitorState = { base, lane: new Lane(capacity), known: new Set(), registering: new Set(), failuresInRow: 0 };
    monitors.set(base, state);
    const f = config.factory;
    const fid = f.factoryId;
    push(state, async (signal) => {
      await send(state, factoryCall(base, fid, { version: o.version ?? 'unknown', email: f.factoryAdminEmail, url: f.baseLogDirUrl }), signal);
    });
    push(state, async (signal) => {
      for (let page = 0; page < MAX_LABEL_PAGES; page++) {
        const res = await send(state, labelsQueryCall(base, fid, page * LABELS_PAGE), signal);
        if (res === undefined) return;
        const names = parseLabelNames(res.body, fid);
        if (names === undefined) {
          log.debug({ monitor: redactUrl(base) }, 'apfmon label list is not a JSON list: labels will be registered again');
          return;
        }
        for (const n of names) state.known.add(n);
        if (names.length < LABELS_PAGE) return;
      }
    });
    return state;
  };

  const onCycleUnsafe = (record: CycleRecord): void => {
    const config = o.config();
    const queue = config.queues.get(record.queue);
    if (queue === undefined) return;
    const fid = config.factory.factoryId;
    const label = queue.name;
    const msg = record.msg.trim() === '' ? undefined : record.msg;
    for (const base of apfMonitorUrls(config, queue)) {
      const m = monitorOf(base, config);
      if (!m.known.has(label) && !m.registering.has(label)) {
        m.registering.add(label);
        const info = { name: label, factory: fid, wmsqueue: queue.wmsqueue ?? '', batchqueue: queue.batchqueue ?? '', resource: '', localqueue: '' };
        push(m, async (signal) => {
          try {
            // The start-up query ran before (same lane): only labels it did not list are registered.
            if (m.known.has(label)) return;
            if ((await send(m, labelsPutCall(base, [info]), signal)) !== undefined) m.known.add(label);
          } finally {
            m.registering.delete(label);
          }
        });
      }
      if (record.jobIds.length > 0) {
        const call = jobsCall(base, fid, label, record.jobIds);
        push(m, async (signal) => void (await send(m, call, signal)));
      }
      if (msg !== undefined) {
        const call = statusCall(base, fid, label, msg);
        push(m, async (signal) => void (await send(m, call, signal)));
      }
    }
  };

  // Start-up registration with every monitor the enabled queues use.
  try {
    const config = o.config();
    for (const q of config.queues.values()) {
      if (q.enabled) for (const base of apfMonitorUrls(config, q)) monitorOf(base, config);
    }
  } catch (err) {
    log.warn({ err: describeError(err) }, 'apfmon start-up registration skipped');
  }

  return {
    onCycle(record) {
      if (closed) return;
      try {
        onCycleUnsafe(record);
      } catch (err) {
        log.warn({ queue: record.queue, err: describeError(err) }, 'apfmon report skipped');
      }
    },
    async close() {
      closed = true;
      const lanes = [...monitors.values()].map((m) => m.lane);
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, o.closeTimeoutMs ?? 2000);
        timer.unref();
      });
      await Promise.race([Promise.all(lanes.map((l) => l.idle())), limit]);
      clearTimeout(timer);
      for (const l of lanes) dropped += l.abort();
      await Promise.all(lanes.map((l) => l.idle()));
    },
    stats: () => ({ ok, failed, dropped }),
  };
}
