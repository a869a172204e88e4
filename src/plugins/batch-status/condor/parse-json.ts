/**
 * Reader of `condor_q -json` / `condor_history -json` output (formats.md §2.3): `JSON.parse`
 * (the engine's native parser, the fastest way to read it) followed by one pass that maps names
 * and turns HTCondor's `"\/Expr(…)\/"` strings back into expressions, so that the result equals
 * what {@link parseCondorXml} gives for the XML form of the same listing.
 *
 * Accepted: empty output (what `condor_q -json` prints for an empty queue), `[\n]`, several
 * arrays one after the other, and `-- Schedd: …` banner lines. Anything `JSON.parse` refuses
 * (truncation, garbage) or that is not an array of objects is `APF_ERR_BATCH_OUTPUT`.
 */
import { isJsonObject } from '../../../util/json-shape.ts';
import { expressionValue, nameMapper, outputError, type JobAd, type ParseOptions, type ParsedValue } from './classad.ts';

/**
 * Parses condor JSON output into job ads, in output order.
 * @throws ApfError `APF_ERR_BATCH_OUTPUT` on truncated or garbled output.
 */
export function parseCondorJson(text: string, options: ParseOptions = {}): JobAd[] {
  const body = text.includes('\n--') || text.startsWith('--') ? dropBanners(text) : text;
  if (body.trim() === '') return [];
  // A string value that really begins with "/Expr(" is printed with an unescaped slash; only then
  // must the raw source be consulted to tell it from an expression ("\/Expr(").
  const exact = body.includes('"/Expr(');
  const mapName = nameMapper(options.attributes);
  const out: JobAd[] = [];
  for (const doc of documents(body, exact, text)) {
    if (!Array.isArray(doc)) throw outputError('json', 'top level is not an array', text);
    for (const ad of doc as unknown[]) out.push(convertAd(ad, mapName, { text, exact }));
  }
  return out;
}

/** Marks strings whose source was `"\/Expr(…)\/"` when the cheap rule cannot be trusted. */
const EXPR_MARK = '\u0000apf-expr\u0000';

function documents(body: string, exact: boolean, text: string): unknown[] {
  const reviver = exact
    ? (_key: string, value: unknown, ctx?: { source?: string }): unknown =>
        typeof value === 'string' && ctx?.source?.startsWith('"\\/Expr(') === true ? EXPR_MARK + value : value
    : undefined;
  try {
    return [JSON.parse(body, reviver) as unknown];
  } catch (first) {
    // Several arrays back to back ("]\n[") are several documents; anything else is broken.
    const parts = body.split(/(?<=^\])\s*\n(?=\[$)/m);
    if (parts.length < 2) throw jsonError(first, text);
    try {
      return parts.map((p) => JSON.parse(p, reviver) as unknown);
    } catch (err) {
      throw jsonError(err, text);
    }
  }
}

function jsonError(err: unknown, text: string): Error {
  const why = err instanceof Error ? err.message : String(err);
  const e = outputError('json', `not valid JSON (${why})`, text);
  return Object.assign(e, { cause: err });
}

function dropBanners(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.startsWith('--'))
    .join('\n');
}

/** What the conversion needs to know about the whole output. */
interface Source {
  /** The full output, for error excerpts. */
  readonly text: string;
  /** Expressions were marked by the reviver (the cheap `/Expr(` rule is off). */
  readonly exact: boolean;
}

function convertAd(ad: unknown, mapName: (printed: string) => string | undefined, src: Source): JobAd {
  if (!isJsonObject(ad)) throw outputError('json', 'an array element is not an object', src.text);
  const out: Record<string, ParsedValue> = {};
  for (const printed in ad) {
    const name = mapName(printed);
    if (name !== undefined) out[name] = convertValue(ad[printed], src);
  }
  return out;
}

function convertValue(v: unknown, src: Source): ParsedValue {
  switch (typeof v) {
    case 'number':
      // -0.0 is printed only by the JSON unparser (XML prints 0.0): read both as 0.
      return v === 0 ? 0 : v;
    case 'boolean':
      return v;
    case 'string':
      return convertString(v, src.exact);
    case 'object':
      if (v === null) return null;
      if (Array.isArray(v)) return v.map((x) => convertValue(x, src));
      return { ad: convertAd(v, (n) => n, src) };
    default:
      throw outputError('json', `unexpected value of type ${typeof v}`, src.text);
  }
}

function convertString(s: string, exact: boolean): ParsedValue {
  let inner: string;
  if (exact) {
    if (!s.startsWith(EXPR_MARK)) return s;
    inner = s.slice(EXPR_MARK.length + 6, -2);
  } else if (s.startsWith('/Expr(') && s.endsWith(')/') && s.length >= 8) {
    inner = s.slice(6, -2);
  } else {
    return s;
  }
  return expressionValue(inner);
}
