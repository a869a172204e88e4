/**
 * The stored forms of the batch contributions (pure; contributions.ts reads and writes them).
 *
 * A snapshot (compact, because one source may hold thousands of queues):
 * `{"at":<ms>,"seq":<n>,"owner":<id|null>,"source":…,"publisher":…,"q":{"<queue>":[pending,running,done,failed(,recentTotal,recentShort)]}}`.
 * `at` and `seq` always come first: the Lua scripts read them by string match. A submitted-pilots
 * entry: the zset member `<queue>\t<cycleId>\t<n>` scored with the submission time.
 */
import type { BatchQueueInfo } from '../core/info.ts';
import { ApfError } from '../errors.ts';
import { isCount, isJsonObject } from '../util/json-shape.ts';
import { countsOf } from './batch-counts.ts';
import type { SubmittedEntry } from './cluster-view.ts';
import type { SourceRecord } from './records.ts';

/**
 * The head every stored snapshot starts with, `{"at":<at>,"seq":<seq>,` (it changes with every
 * publish), which the read script compares to leave out a snapshot the reader already holds.
 * Built from the decoded numbers, not cut from the text: V8 keeps a cut-out substring as a slice
 * of its parent, so holding it would hold the whole snapshot text (hundreds of kilobytes for a
 * large schedd) for as long as the source is known.
 */
export function snapshotHead(rec: Pick<SourceRecord, 'at' | 'seq'>): string {
  return `{"at":${rec.at},"seq":${rec.seq},`;
}

/**
 * The stored body of a snapshot after `at` and `seq`, without braces (what the publish script
 * stores). A schedd's snapshot holds thousands of queues and is published every interval: the
 * counts go into one null-prototype object (a queue named __proto__ stays an own property), with
 * no entry arrays on the way.
 */
export function encodeSourceBody(rec: Omit<SourceRecord, 'seq' | 'at'>): string {
  const q = Object.create(null) as Record<string, number[]>;
  for (const name of Object.keys(rec.queues)) {
    const c = rec.queues[name] as BatchQueueInfo;
    q[name] = c.recent === undefined ? [c.pending, c.running, c.done, c.failed] : [c.pending, c.running, c.done, c.failed, c.recent.total, c.recent.short];
  }
  return JSON.stringify({ owner: rec.owner, source: rec.source, publisher: rec.publisher, q }).slice(1, -1);
}

/** Whether a queue's counts can be published (non-negative integers throughout). */
export function validCounts(c: BatchQueueInfo): boolean {
  return isCount(c.pending) && isCount(c.running) && isCount(c.done) && isCount(c.failed) && (c.recent === undefined || (isCount(c.recent.total) && isCount(c.recent.short)));
}

/**
 * Decodes a stored snapshot; null when it is not one (never throws). The queue counts replace
 * the parsed arrays in the parsed object itself, so a snapshot of thousands of queues is not
 * copied into a second one.
 */
export function decodeSourceRecord(text: string): SourceRecord | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isJsonObject(raw)) return null;
  const { at, seq, owner, source, publisher, q } = raw;
  if (!isCount(at) || !isCount(seq) || typeof source !== 'string' || typeof publisher !== 'string') return null;
  if (owner !== null && typeof owner !== 'string') return null;
  if (!isJsonObject(q)) return null;
  // JSON.parse made "__proto__" an own data property, so assigning to it stays an own property.
  for (const name of Object.keys(q)) {
    const c = q[name];
    if (!Array.isArray(c) || (c.length !== 4 && c.length !== 6) || !c.every(isCount)) return null;
    const [pending, running, done, failed, total, short] = c;
    // most queues of a large schedd are idle: they share one frozen zero
    const info = countsOf(pending as number, running as number, done as number, failed as number);
    q[name] = total === undefined ? info : { ...info, recent: { total, short: short as number } };
  }
  return { source, owner, publisher, at, seq, queues: q as Record<string, BatchQueueInfo> };
}

/** The submitted zset member `<queue>\t<cycleId>\t<n>`. */
export function encodeSubmittedMember(queue: string, cycleId: string, n: number): string {
  return `${queue}\t${cycleId}\t${n}`;
}

/**
 * Expiry of a source's submitted zset, renewed at every submission, so the entries of a source
 * nobody publishes any more do not stay forever (ContributionStore and the fenced commit, which
 * both record submissions): a day.
 */
export const SUBMITTED_TTL_MS = 86_400_000;

/** Refuses a name the stored forms cannot hold: empty, or with a tab or newline (the member's separators, and log lines). */
export function checkName(what: string, s: string): void {
  if (s === '' || /[\t\r\n]/.test(s)) throw new ApfError('APF_ERR_USAGE', `invalid ${what} ${JSON.stringify(s)}`);
}

/**
 * The checked member of a submitted-pilots record (`n` pilots of `queue`'s cycle `cycleId` at
 * `at` into `source`).
 *
 * @throws ApfError `APF_ERR_USAGE` for a bad name or number.
 */
export function submittedMember(source: string, queue: string, cycleId: string, n: number, at: number): string {
  checkName('source id', source);
  checkName('queue name', queue);
  checkName('cycle id', cycleId);
  if (!isCount(n) || n === 0 || !isCount(at)) throw new ApfError('APF_ERR_USAGE', `invalid submitted record n=${n} at=${at}`);
  return encodeSubmittedMember(queue, cycleId, n);
}

/** Decodes a submitted zset member and its score; null when malformed. */
export function decodeSubmittedMember(source: string, member: string, score: string | number): SubmittedEntry | null {
  const parts = member.split('\t');
  if (parts.length !== 3) return null;
  const [queue, cycleId, nText] = parts as [string, string, string];
  const n = Number(nText);
  const at = Number(score);
  if (queue === '' || !isCount(n) || !Number.isFinite(at)) return null;
  return { source, queue, cycleId, n, at };
}
