/**
 * The old-ClassAd "long" form of job ads (HTCondor simulator, NOT HTCondor): `Name = value`
 * lines as `condor_q -long`, `condor_history -long` and `condor_submit -verbose` print them
 * (strings quoted, expressions in old syntax with `=?=`/`=!=`), plus the value text used by
 * `-af` (autoformat: strings unquoted).
 */
import type { Ad, AdValue } from './classad-format.ts';
import { adValueText } from './classad-expr.ts';

/** The ad's attributes sorted case-insensitively, as the machine-readable writers order them. */
export function sortedNames(ad: Ad): string[] {
  return Object.keys(ad).sort((a, b) => {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** `Name = value\n` for every attribute (no trailing blank line). */
export function formatAdLong(ad: Ad): string {
  let out = '';
  for (const name of sortedNames(ad)) out += `${name} = ${adValueText(ad[name] as AdValue, true)}\n`;
  return out;
}

/** One value as `-af` prints it: strings without quotes, `undefined` for missing attributes. */
export function autoformatValue(v: AdValue | undefined): string {
  if (v === undefined || v === null) return 'undefined';
  if (typeof v === 'string') return v;
  return adValueText(v, true);
}
