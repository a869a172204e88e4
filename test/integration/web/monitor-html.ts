/** Tiny HTML readers for the monitor tests (the pages are our own, regular markup). */

/** Undoes esc(). */
export function unesc(s: string): string {
  return s.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&amp;', '&');
}

/** The text of a fragment: tags dropped, entities undone, blanks collapsed. */
export function text(fragment: string): string {
  return unesc(fragment.replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
}

/** Queue rows of a page's queue table: name → the row's HTML, in page order. */
export function queueRows(html: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of html.matchAll(/<tr data-queue="([^"]*)">([\s\S]*?)<\/tr>/g)) out.set(unesc(m[1] as string), m[2] as string);
  return out;
}

/** The HTML of a row's cell `data-col="col"`, with its opening tag. */
export function cellHtml(row: string, col: string): string {
  const m = new RegExp(`<td data-col="${col}"[^>]*>[\\s\\S]*?</td>`).exec(row);
  if (m === null) throw new Error(`no cell ${col} in ${row}`);
  return m[0];
}

/** The text of a row's cell. */
export function cell(row: string, col: string): string {
  return text(cellHtml(row, col));
}

/** The value of attribute `name` of the first tag matching `tagRe` in `html`. */
export function attr(html: string, tagRe: RegExp, name: string): string | undefined {
  const tag = tagRe.exec(html)?.[0];
  if (tag === undefined) return undefined;
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m === null ? undefined : unesc(m[1] as string);
}
