/**
 * Shape checks for parsed JSON that Redis hands back, written out instead of run through a
 * schema library where a record holds thousands of entries: a schema validator copies every
 * entry it accepts, and at that size the copies are most of what a read allocates.
 */

/** A non-negative safe integer (a count, an epoch-ms time, a sequence number). */
export function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** A JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
