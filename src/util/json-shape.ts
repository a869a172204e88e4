/**
 * Shape checks for parsed JSON, for the readers that go through it by hand: records of thousands
 * of entries apf reads back from Redis (a schema validator copies every entry it accepts, and at
 * that size the copies are most of what a read allocates) and condor_q's JSON output.
 */

/** A non-negative safe integer (a count, an epoch-ms time, a sequence number). */
export function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** A JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
