/**
 * `Range: bytes=…` (RFC 9110 §14): one range only — `a-b`, `a-` or `-n`. Anything the server is
 * allowed to ignore (several ranges, another unit, a malformed or inverted spec) is ignored and
 * the whole file is sent; a well-formed range that starts beyond the end is unsatisfiable (416).
 */

/** What to send. */
export type RangeResult =
  | { readonly kind: 'full' }
  /** Inclusive byte positions, `0 ≤ start ≤ end < size`. */
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

const FULL: RangeResult = { kind: 'full' };
const UNSATISFIABLE: RangeResult = { kind: 'unsatisfiable' };
const SPEC = /^bytes=(\d*)-(\d*)$/i;

/** Interprets a Range header against a file of `size` bytes. */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return FULL;
  const m = SPEC.exec(header.replace(/\s+/g, ''));
  if (m === null) return FULL;
  const first = m[1] as string;
  const last = m[2] as string;
  if (first === '' && last === '') return FULL;
  if (first === '') {
    // Suffix: the last n bytes.
    const n = Number(last);
    if (n === 0 || size === 0) return UNSATISFIABLE;
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return FULL;
  if (start >= size) return UNSATISFIABLE;
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: 'partial', start, end };
}
