/**
 * How the pipeline sees a status source at decision time: available with a snapshot of a known
 * age, or unavailable with the reason. Pure data, so it can come from a local fetch, from a
 * snapshot file or (in a cluster) from Redis.
 */

/** A source the pipeline may use. */
export type SourceView<T> =
  | {
      readonly available: true;
      /** Source key (e.g. `local`, `schedd01:cm01`, the PanDA URL). */
      readonly key: string;
      readonly snapshot: T & { readonly at: number };
      /** Staleness limit in ms (`maxage`). */
      readonly maxAgeMs: number;
    }
  | {
      readonly available: false;
      readonly key: string;
      /** Why (error code and message of the last attempt, or "never fetched"). */
      readonly reason: string;
    };

/** Why a view cannot be used at `now`, or null when it is usable. */
export function unusableReason<T>(view: SourceView<T>, now: number, what: string): string | null {
  if (!view.available) return `${what} source ${view.key} unavailable: ${view.reason}`;
  const age = now - view.snapshot.at;
  if (age > view.maxAgeMs) {
    return `${what} source ${view.key} is stale: data is ${Math.round(age / 1000)} s old (maxage ${Math.round(view.maxAgeMs / 1000)} s)`;
  }
  return null;
}
