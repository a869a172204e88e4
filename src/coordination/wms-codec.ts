/**
 * The stored form of a shared WMS fetch result (wms-share.ts):
 * `{"v":1,"ok":true,"at":<ms>,"by":<instance>,"snapshot":{"at":<ms>,"queues":{"<wmsqueue>":{"ready":…,"notready":…,"running":…,"done":…,"failed":…}},"sites":null|{"<wmsqueue>":{"status":…}}}}`
 * or, for a failed fetch, `{"v":1,"ok":false,"at":<ms>,"by":<instance>,"error":…}`.
 *
 * A PanDA snapshot names every queue of the grid (thousands), and every instance decodes it once
 * per interval at the same moment, so neither direction makes more than one object per entry:
 * encoding fills one null-prototype object from the Maps (no entry arrays) for `JSON.stringify`,
 * decoding checks the parsed JSON by hand and builds the Maps directly, with one shared object
 * per site status and one frozen zero for idle queues. (Through `Object.fromEntries` and a schema
 * validator the same work allocated about 30 MiB per 10,000 queues, all of it at once: a heap
 * swell on every instance each interval, which raised its resident size for good.)
 */
import { ZERO_WMS, type SiteInfo, type WmsQueueInfo, type WmsSnapshot } from '../core/info.ts';
import { isCount, isJsonObject } from '../util/json-shape.ts';

/** A decoded result: the snapshot, or the failure, with when and by whom it was stored. */
export type DecodedWmsResult = { at: number; by: string; snapshot: WmsSnapshot } | { at: number; by: string; error: string };

/** Serializes a fetch result for Redis (Maps as objects; `sites: null` kept). */
export function encodeWmsResult(at: number, by: string, result: { snapshot: WmsSnapshot } | { error: string }): string {
  if ('error' in result) return JSON.stringify({ v: 1, ok: false, at, by, error: result.error });
  const s = result.snapshot;
  // null-prototype objects: a queue named __proto__ stays an own property
  const queues = Object.create(null) as Record<string, WmsQueueInfo>;
  s.queues.forEach((q, name) => {
    queues[name] = { ready: q.ready, notready: q.notready, running: q.running, done: q.done, failed: q.failed };
  });
  let sites: Record<string, SiteInfo> | null = null;
  if (s.sites !== null) {
    const all = Object.create(null) as Record<string, SiteInfo>;
    s.sites.forEach((site, name) => {
      all[name] = { status: site.status };
    });
    sites = all;
  }
  return JSON.stringify({ v: 1, ok: true, at, by, snapshot: { at: s.at, queues, sites } });
}

/** Parses a stored fetch result; null when it is not one (never throws). Unknown fields are ignored. */
export function decodeWmsResult(stored: string): DecodedWmsResult | null {
  let raw: unknown;
  try {
    raw = JSON.parse(stored);
  } catch {
    return null;
  }
  if (!isJsonObject(raw) || raw.v !== 1 || !isCount(raw.at) || typeof raw.by !== 'string') return null;
  const { at, by } = raw;
  if (raw.ok === false) return typeof raw.error === 'string' ? { at, by, error: raw.error } : null;
  if (raw.ok !== true || !isJsonObject(raw.snapshot)) return null;
  const snap = raw.snapshot;
  if (!isCount(snap.at)) return null;
  const queues = decodeQueues(snap.queues);
  if (queues === null) return null;
  let sites: Map<string, SiteInfo> | null = null;
  if (snap.sites !== null) {
    sites = decodeSites(snap.sites);
    if (sites === null) return null;
  }
  return { at, by, snapshot: { at: snap.at, queues, sites } };
}

function decodeQueues(v: unknown): Map<string, WmsQueueInfo> | null {
  if (!isJsonObject(v)) return null;
  const queues = new Map<string, WmsQueueInfo>();
  for (const name of Object.keys(v)) {
    const q = v[name];
    if (!isJsonObject(q)) return null;
    const { ready, notready, running, done, failed } = q;
    if (!isCount(ready) || !isCount(notready) || !isCount(running) || !isCount(done) || !isCount(failed)) return null;
    const idle = ready === 0 && notready === 0 && running === 0 && done === 0 && failed === 0;
    queues.set(name, idle ? ZERO_WMS : { ready, notready, running, done, failed });
  }
  return queues;
}

function decodeSites(v: unknown): Map<string, SiteInfo> | null {
  if (!isJsonObject(v)) return null;
  const sites = new Map<string, SiteInfo>();
  // a handful of distinct statuses (online, offline, test, brokeroff…) for thousands of queues
  const byStatus = new Map<string, SiteInfo>();
  for (const name of Object.keys(v)) {
    const s = v[name];
    if (!isJsonObject(s) || typeof s.status !== 'string') return null;
    let info = byStatus.get(s.status);
    if (info === undefined) {
      info = Object.freeze({ status: s.status });
      byStatus.set(s.status, info);
    }
    sites.set(name, info);
  }
  return sites;
}
