/**
 * The requests of APF's monitor plugin, "API v2" (apf-behaviour §5.1, formats §4), as pure values:
 * URL, method and body of each call. Bodies carry the keys in APF's order.
 */
import type { HttpMethod } from '../util/http.ts';

/** One request to an apfmon server. */
export interface ApfmonCall {
  readonly method: HttpMethod;
  readonly url: string;
  /** Request body, if any. */
  readonly body?: string;
  readonly contentType?: string;
  /** Short name for logs and counters: `factory`, `labels-get`, `labels-put`, `jobs`, `status`. */
  readonly kind: 'factory' | 'labels-get' | 'labels-put' | 'jobs' | 'status';
}

/** One label (an APF queue) as `PUT /labels` registers it. */
export interface LabelInfo {
  readonly name: string;
  readonly factory: string;
  readonly wmsqueue: string;
  readonly batchqueue: string;
  readonly resource: string;
  readonly localqueue: string;
}

/** apfmon pages label lists by 50 (its default `limit`). */
export const LABELS_PAGE = 50;

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

/** `<base>` without trailing slashes (monitor.conf URLs are written both ways). */
export function monitorBase(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

/** `PUT <base>/factories/<factoryId>` `{"version","email","url"}`: the factory's start-up registration. */
export function factoryCall(base: string, factoryId: string, body: { version: string; email: string; url: string }): ApfmonCall {
  return {
    kind: 'factory',
    method: 'PUT',
    url: `${base}/factories/${encodeURIComponent(factoryId)}`,
    body: JSON.stringify({ version: body.version, email: body.email, url: body.url }),
    contentType: JSON_TYPE,
  };
}

/** `GET <base>/labels?factory=<factoryId>` (and `&offset=n` for the following pages). */
export function labelsQueryCall(base: string, factoryId: string, offset = 0): ApfmonCall {
  const q = new URLSearchParams({ factory: factoryId });
  if (offset > 0) q.set('offset', String(offset));
  return { kind: 'labels-get', method: 'GET', url: `${base}/labels?${q.toString()}` };
}

/** The names of the labels of `factoryId` in a `GET /labels` answer (a JSON list of label objects). */
export function parseLabelNames(body: string, factoryId: string): string[] | undefined {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!Array.isArray(data)) return undefined;
  const names: string[] = [];
  for (const item of data as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const { name, factory } = item as { name?: unknown; factory?: unknown };
    if (typeof name !== 'string') continue;
    if (typeof factory === 'string' && factory !== factoryId) continue;
    names.push(name);
  }
  return names;
}

/** `PUT <base>/labels` with a JSON list of labels. */
export function labelsPutCall(base: string, labels: readonly LabelInfo[]): ApfmonCall {
  const list = labels.map((l) => ({
    name: l.name,
    factory: l.factory,
    wmsqueue: l.wmsqueue,
    batchqueue: l.batchqueue,
    resource: l.resource,
    localqueue: l.localqueue,
  }));
  return { kind: 'labels-put', method: 'PUT', url: `${base}/labels`, body: JSON.stringify(list), contentType: JSON_TYPE };
}

/** `PUT <base>/jobs` `[{"cid","label","factory"}, …]`: the pilots one cycle submitted. */
export function jobsCall(base: string, factoryId: string, label: string, jobIds: readonly string[]): ApfmonCall {
  const list = jobIds.map((cid) => ({ cid, label, factory: factoryId }));
  return { kind: 'jobs', method: 'PUT', url: `${base}/jobs`, body: JSON.stringify(list), contentType: JSON_TYPE };
}

/** `POST <base>/labels/<factoryId>:<label>` form `status=<msg>`: a cycle's sched message. */
export function statusCall(base: string, factoryId: string, label: string, msg: string): ApfmonCall {
  return {
    kind: 'status',
    method: 'POST',
    url: `${base}/labels/${encodeURIComponent(factoryId)}:${encodeURIComponent(label)}`,
    body: new URLSearchParams({ status: msg }).toString(),
    contentType: FORM_TYPE,
  };
}
