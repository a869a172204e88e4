/**
 * The user's extra submit-file lines: `batchsubmit.<level>.condor_attributes` (a comma list of raw
 * `key = value` lines) and `batchsubmit.<level>.condor_attributes.<attr> = <value>` (one line each),
 * appended after the generated lines so that they can override them (apf-behaviour §2.4, §4.3).
 */

/**
 * Splits a `condor_attributes` value into its items with APF's escaping: a run of backslashes
 * right before a comma is halved, and the comma splits when the run was even (`a\\,b` → `a\`, `b`)
 * or is literal when it was odd (`a\,b` → `a,b`). Backslashes that do not precede a comma are
 * kept as written (APF only rewrote backslash runs in front of commas).
 */
export function splitCondorAttributes(text: string): string[] {
  const items: string[] = [];
  let cur = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '\\') {
      let run = 0;
      while (text[i] === '\\') {
        run++;
        i++;
      }
      if (text[i] === ',') {
        cur += '\\'.repeat(Math.floor(run / 2));
        if (run % 2 === 0) {
          items.push(cur);
          cur = '';
        } else {
          cur += ',';
        }
        i++;
      } else {
        cur += '\\'.repeat(run);
      }
      continue;
    }
    if (ch === ',') {
      items.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
    i++;
  }
  items.push(cur);
  return items;
}

/**
 * Turns a `condor_attributes` value into submit-file lines. An item `key = value` is split at its
 * first `=` and written `key = value`; an item without `=` is written as it is. Items are trimmed
 * and empty items dropped: APF wrote the untrimmed halves (`request_memory  =  2000`) and blank
 * lines, which HTCondor reads identically. A line break inside an item (an INI continuation line)
 * starts a new line, as it did in the file APF wrote.
 */
export function condorAttributeLines(text: string | undefined): string[] {
  if (text === undefined) return [];
  const lines: string[] = [];
  for (const item of splitCondorAttributes(text)) {
    for (const raw of item.split(/\r?\n/)) {
      const piece = raw.trim();
      if (piece === '') continue;
      const eq = piece.indexOf('=');
      lines.push(eq < 0 ? piece : `${piece.slice(0, eq).trim()} = ${piece.slice(eq + 1).trim()}`);
    }
  }
  return lines;
}

/** Lines of the `condor_attributes.<attr> = <value>` keys, in the order given. */
export function condorAttributeMapLines(entries: ReadonlyArray<readonly [string, string]>): string[] {
  return entries.map(([attr, value]) => `${oneLine(attr).trim()} = ${oneLine(value).trim()}`);
}

/**
 * A submit-file value on one line. configparser joins continuation lines with `\n`; written
 * verbatim they would start new (unintended) submit-file lines.
 */
export function oneLine(value: string): string {
  return value.replace(/\s*\r?\n\s*/g, ' ');
}
