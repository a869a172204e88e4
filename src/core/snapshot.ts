/**
 * Snapshot files: the normalized inputs of the pipeline, so that a site can replay a real
 * situation offline (`apf snapshot` writes them, `apf plan --wms-snapshot/--batch-snapshot`
 * reads them).
 *
 * WMS:   `{"queues": {"<wmsqueue>": {"ready","notready","running","done","failed"}}, "sites": {"<wmsqueue>": {"status"}} | null}`
 * Batch: `{"queues": {"<apf queue>": {"pending","running","done","failed","recent": {"total","short"}}}}`
 *
 * A queue missing from a snapshot reads as zeros; a file whose content is `null` means the source
 * was unavailable; `"sites": null` means site status was unavailable.
 */
import { z } from 'zod';
import { ApfError } from '../errors.ts';
import type { BatchQueueInfo, BatchSnapshot, WmsQueueInfo, WmsSnapshot } from './info.ts';
import type { SourceView } from './source-view.ts';

const count = z.number().int().nonnegative();

const wmsQueue = z
  .object({
    ready: count.default(0),
    notready: count.default(0),
    running: count.default(0),
    done: count.default(0),
    failed: count.default(0),
  })
  .strict();

const wmsFile = z.union([
  z.null(),
  z
    .object({
      queues: z.record(z.string(), wmsQueue).default({}),
      sites: z.union([z.null(), z.record(z.string(), z.object({ status: z.string() }).strict())]).default({}),
    })
    .strict(),
]);

const batchQueue = z
  .object({
    pending: count.default(0),
    running: count.default(0),
    done: count.default(0),
    failed: count.default(0),
    recent: z.object({ total: count, short: count }).strict().optional(),
  })
  .strict();

const batchFile = z.union([z.null(), z.object({ queues: z.record(z.string(), batchQueue).default({}) }).strict()]);

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ApfError('APF_ERR_SNAPSHOT_INVALID', `${file}: not JSON: ${(err as Error).message}`);
  }
}

function zodMessage(file: string, err: z.ZodError): string {
  return `${file}: ${err.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top)'}: ${i.message}`).join('; ')}`;
}

/** Parses a WMS snapshot file into a source view (`key` = `snapshot:<file>`). */
export function readWmsSnapshot(text: string, file: string, now: number): SourceView<WmsSnapshot> {
  const r = wmsFile.safeParse(parseJson(text, file));
  if (!r.success) throw new ApfError('APF_ERR_SNAPSHOT_INVALID', zodMessage(file, r.error));
  const key = `snapshot:${file}`;
  if (r.data === null) return { available: false, key, reason: 'the snapshot records the WMS source as unavailable' };
  const queues = new Map<string, WmsQueueInfo>(Object.entries(r.data.queues));
  const sites = r.data.sites === null ? null : new Map(Object.entries(r.data.sites));
  return { available: true, key, snapshot: { at: now, queues, sites }, maxAgeMs: Number.MAX_SAFE_INTEGER };
}

/** Parses a batch snapshot file into a source view. */
export function readBatchSnapshot(text: string, file: string, now: number): SourceView<BatchSnapshot> {
  const r = batchFile.safeParse(parseJson(text, file));
  if (!r.success) throw new ApfError('APF_ERR_SNAPSHOT_INVALID', zodMessage(file, r.error));
  const key = `snapshot:${file}`;
  if (r.data === null) return { available: false, key, reason: 'the snapshot records the batch source as unavailable' };
  const queues = new Map<string, BatchQueueInfo>(Object.entries(r.data.queues));
  return { available: true, key, snapshot: { at: now, queues, jobs: new Map() }, maxAgeMs: Number.MAX_SAFE_INTEGER };
}

/** Serializes WMS snapshots (merged over several sources); null when any is unavailable. */
export function writeWmsSnapshot(views: readonly SourceView<WmsSnapshot>[]): string {
  if (views.some((v) => !v.available)) return 'null\n';
  const queues: Record<string, WmsQueueInfo> = {};
  let sites: Record<string, { status: string }> | null = {};
  for (const v of views) {
    if (!v.available) continue;
    for (const [k, q] of v.snapshot.queues) queues[k] = { ...q };
    if (v.snapshot.sites === null) sites = null;
    else if (sites !== null) for (const [k, s] of v.snapshot.sites) sites[k] = { status: s.status };
  }
  return `${JSON.stringify({ queues, sites }, null, 2)}\n`;
}

/** Serializes batch snapshots (merged over several sources); null when any is unavailable. */
export function writeBatchSnapshot(views: readonly SourceView<BatchSnapshot>[]): string {
  if (views.some((v) => !v.available)) return 'null\n';
  const queues: Record<string, BatchQueueInfo> = {};
  for (const v of views) {
    if (!v.available) continue;
    for (const [k, q] of v.snapshot.queues) queues[k] = { ...q };
  }
  return `${JSON.stringify({ queues }, null, 2)}\n`;
}
