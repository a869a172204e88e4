/**
 * What the condor output parsers produce, shared by the XML scanner and the JSON reader so that
 * both forms of the same listing give deep-equal results (a differential test holds them to it).
 */
import { ApfError } from '../../../errors.ts';

/**
 * One parsed ClassAd value. Integers and reals are both `number` (the JSON form cannot tell
 * `38800.0` from `38800`, so the distinction is dropped in both parsers); `undefined` is `null`;
 * `error`, absolute/relative times and every other expression are `{ expr }` holding the
 * new-ClassAd text (`{ expr: 'error' }`, `{ expr: 'absTime("…")' }`); lists are arrays and nested
 * ads `{ ad }`.
 */
export type ParsedValue =
  | string
  | number
  | boolean
  | null
  | { readonly expr: string }
  | { readonly ad: JobAd }
  | readonly ParsedValue[];

/** One job ad: attribute name → value. */
export type JobAd = Readonly<Record<string, ParsedValue>>;

/** Options of the parsers. */
export interface ParseOptions {
  /**
   * Keep only these attributes, matched case-insensitively, under the spelling given here (so
   * callers can read `ad.MATCH_APF_QUEUE` whatever case the submit file used). Absent: every
   * attribute under the name the ad printed.
   */
  readonly attributes?: readonly string[];
}

/**
 * Maps printed attribute names to the caller's spelling (or `undefined` to drop them), caching
 * the exact printed spelling so that each distinct name is lower-cased only once per parse.
 */
export function nameMapper(attributes: readonly string[] | undefined): (printed: string) => string | undefined {
  if (attributes === undefined) return (printed) => printed;
  const wanted = new Map(attributes.map((a) => [a.toLowerCase(), a] as const));
  // null marks a name seen and dropped, so that a hit costs one lookup.
  const seen = new Map<string, string | null>();
  return (printed) => {
    const hit = seen.get(printed);
    if (hit !== undefined) return hit ?? undefined;
    const canonical = wanted.get(printed.toLowerCase());
    seen.set(printed, canonical ?? null);
    return canonical;
  };
}

/**
 * An `<e>` expression. The JSON form prints non-finite reals as the expressions `real("NaN")`,
 * `real("INF")`, `real("-INF")`, so these three read as the numbers they evaluate to in both
 * forms (otherwise the same listing would parse differently in XML and JSON).
 */
export function expressionValue(text: string): ParsedValue {
  switch (text) {
    case 'real("NaN")':
      return NaN;
    case 'real("INF")':
      return Infinity;
    case 'real("-INF")':
      return -Infinity;
    default:
      return { expr: text };
  }
}

/** The coded error of unusable output, with where it went wrong and a short excerpt. */
export function outputError(form: 'xml' | 'json', message: string, text: string, offset?: number): ApfError {
  const details: Record<string, unknown> = { form, length: text.length };
  if (offset !== undefined) {
    details['offset'] = offset;
    details['excerpt'] = text.slice(Math.max(0, offset - 40), offset + 40);
  }
  return new ApfError('APF_ERR_BATCH_OUTPUT', `condor ${form} output: ${message}`, { details });
}
