/** In `u` mode a surrogate pair is one code point, so this matches lone surrogates only. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * A copy of a string that does not keep a larger string alive.
 *
 * V8 represents `slice`, `substring`, `split` and regular-expression results of 13 characters or
 * more as views into their parent string, so one short value kept from a parsed file keeps the
 * whole file text in memory for as long as the value lives. Values that outlive their parse (the
 * configuration's section names and values: 10,000 queues keep a 0.5 MiB queues.conf alive) are
 * copied through this function, which builds a new flat string from the characters.
 */
export function ownString(s: string): string {
  // Shorter strings are always copied by V8, never views.
  if (s.length < 13) return s;
  // UTF-8 would turn a lone surrogate into U+FFFD; such a string is rebuilt from its code units.
  return LONE_SURROGATE.test(s) ? s.split('').join('') : Buffer.from(s, 'utf8').toString('utf8');
}
