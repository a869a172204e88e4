/**
 * The writer of HTCondor's machine-readable job listings: exactly the bytes `condor_q -xml`,
 * `condor_history -xml`, `condor_q -json` and `condor_history -json` print for a list of job ads
 * (formats.md §2.1–2.3, HTCondor's `xmlSink.cpp`, `jsonSink.cpp`, `sink.cpp`). The HTCondor
 * simulator prints through it, and the parsers' tests and `npm run bench:parse` generate their
 * inputs with it, so that what apf parses is what a real schedd prints.
 */
import { ApfError } from '../../errors.ts';

/** A ClassAd value: string, integer (number), boolean, null (= undefined), a real, or an unparsed expression. */
export type AdValue = string | number | boolean | null | { readonly real: number } | { readonly expr: string };

/** One ClassAd: attribute name (case kept as set) → value. */
export type Ad = Readonly<Record<string, AdValue>>;

/** The tools whose layouts differ (blank lines in XML, empty-output form in JSON). */
export type CondorListTool = 'condor_q' | 'condor_history';

const XML_HEADER = '<?xml version="1.0"?>\n<!DOCTYPE classads SYSTEM "classads.dtd">\n<classads>\n';
const XML_FOOTER = '</classads>\n';

/**
 * Exactly what `condor_q -xml` / `condor_history -xml` print (tool decides header/blank-line layout).
 * condor_q always prints header and footer, even for no ads; condor_history adds an empty line
 * after the header, after each ad and after the footer.
 */
export function formatAdsXml(ads: Iterable<Ad>, tool: CondorListTool): string {
  const gap = tool === 'condor_history' ? '\n' : '';
  const out: string[] = [XML_HEADER + gap];
  for (const ad of ads) {
    let s = '<c>\n';
    for (const [name, value] of sortedEntries(ad)) {
      s += `    <a n="${xmlString(name)}">${xmlValue(name, value)}</a>\n`;
    }
    out.push(`${s}</c>\n${gap}`);
  }
  out.push(XML_FOOTER + gap);
  return out.join('');
}

/**
 * Exactly what `condor_q -json` / `condor_history -json` print (condor_q prints nothing for no
 * ads; condor_history prints "[\n]\n").
 */
export function formatAdsJson(ads: Iterable<Ad>, tool: CondorListTool): string {
  const out: string[] = [];
  for (const ad of ads) {
    const parts: string[] = [];
    for (const [name, value] of sortedEntries(ad)) parts.push(`\n  "${jsonString(name)}": ${jsonValue(name, value)}`);
    out.push(`{${parts.join(',')}\n}`);
  }
  if (out.length === 0) return tool === 'condor_history' ? '[\n]\n' : '';
  return `[\n${out.join('\n,\n')}\n]\n`;
}

/**
 * Projection as `-attributes A,B` does (case-insensitive names, only existing attributes). The
 * ad's own spelling of a name is kept. An absent or empty list means no projection (all
 * attributes), as in HTCondor.
 */
export function projectAd(ad: Ad, attributes: readonly string[] | undefined): Ad {
  if (attributes === undefined || attributes.length === 0) return ad;
  const wanted = new Set(attributes.map((a) => a.toLowerCase()));
  const out: Record<string, AdValue> = {};
  for (const [name, value] of Object.entries(ad)) {
    if (wanted.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}

/** Sorted name orders by the ad's own key order: the ads of one listing mostly share a shape. */
const orderCache = new Map<string, readonly string[]>();

/**
 * The ad's attributes in HTCondor's print order: case-insensitive alphabetical (`strcasecmp`).
 * Two names that differ only in case cannot coexist in a ClassAd, so they are refused.
 */
function sortedEntries(ad: Ad): Array<[string, AdValue]> {
  const names = Object.keys(ad);
  const shape = names.join('\u0000');
  let order = orderCache.get(shape);
  if (order === undefined) {
    const keyed = names.map((n) => ({ k: n.toLowerCase(), n }));
    keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    for (let i = 1; i < keyed.length; i++) {
      if (keyed[i]?.k === keyed[i - 1]?.k) {
        throw new ApfError('APF_ERR_SIM', `attribute names differ only in case: ${keyed[i - 1]?.n} / ${keyed[i]?.n}`);
      }
    }
    order = keyed.map((e) => e.n);
    if (orderCache.size >= 1000) orderCache.clear();
    orderCache.set(shape, order);
  }
  return order.map((n) => [n, ad[n] as AdValue]);
}

/** The ClassAd literal an expression's text stands for, when it is one the unparsers print specially. */
function literalOf(expr: string): 'error' | 'undefined' | undefined {
  const t = expr.trim().toLowerCase();
  return t === 'error' || t === 'undefined' ? t : undefined;
}

function checkInteger(name: string, n: number): void {
  if (!Number.isInteger(n)) {
    throw new ApfError('APF_ERR_SIM', `attribute ${name}: ${n} is not an integer (write reals as { real: x })`);
  }
}

// ---------------------------------------------------------------------------------------------
// XML

function xmlValue(name: string, v: AdValue): string {
  if (v === null) return '<un/>';
  switch (typeof v) {
    case 'string':
      return `<s>${xmlString(v)}</s>`;
    case 'number':
      checkInteger(name, v);
      return `<i>${intText(v)}</i>`;
    case 'boolean':
      return v ? '<b v="t"/>' : '<b v="f"/>';
    default:
      break;
  }
  if ('real' in v) return `<r>${xmlReal(v.real)}</r>`;
  const lit = literalOf(v.expr);
  if (lit === 'error') return '<er/>';
  if (lit === 'undefined') return '<un/>';
  return `<e>${xmlEntities(v.expr)}</e>`;
}

/** Text of an integer as `%lld` prints it (no exponent for large values). */
function intText(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

/** A real as the XML unparser prints it: `0.0`, `NaN`, `INF`, `-INF`, else `%1.15E`. */
function xmlReal(x: number): string {
  if (x === 0) return '0.0'; // -0.0 == 0.0 in C, so the "-0.0" branch of xmlSink.cpp is never taken
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'INF';
  if (x === -Infinity) return '-INF';
  const { digits, exp, neg } = cExponential(x, 15);
  return `${neg ? '-' : ''}${digits[0]}.${digits.slice(1)}E${expText(exp)}`;
}

// Characters that a string may contain verbatim in XML output: printable ASCII except \ & < >.
const XML_PLAIN = /^[\x20-\x25\x27-\x3b\x3d\x3f-\x5b\x5d-\x7e]*$/;

const C_ESCAPES: Readonly<Record<number, string>> = {
  7: '\\a',
  8: '\\b',
  9: '\\t',
  10: '\\n',
  11: '\\v',
  12: '\\f',
  13: '\\r',
  92: '\\\\',
};

/**
 * A string value (or attribute name) as the new-ClassAd XML unparser prints it: C escapes for
 * `\` and control characters, `\ooo` octal for every other non-printable byte (including each
 * UTF-8 byte of a non-ASCII character: `isprint` in the C locale), then `&`, `<`, `>` as entities.
 * `"` and `'` are printed as they are.
 */
function xmlString(s: string): string {
  if (XML_PLAIN.test(s)) return s;
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const esc = C_ESCAPES[byte];
    if (esc !== undefined) out += esc;
    else if (byte === 0x26) out += '&amp;';
    else if (byte === 0x3c) out += '&lt;';
    else if (byte === 0x3e) out += '&gt;';
    else if (byte < 0x20 || byte > 0x7e) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return out;
}

/** An expression's text in `<e>`: only `&`, `<`, `>` are replaced. */
function xmlEntities(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

// ---------------------------------------------------------------------------------------------
// JSON

function jsonValue(name: string, v: AdValue): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return `"${jsonString(v)}"`;
    case 'number':
      checkInteger(name, v);
      return intText(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      break;
  }
  if ('real' in v) return jsonReal(v.real);
  if (literalOf(v.expr) === 'undefined') return 'null';
  return jsonExpr(literalOf(v.expr) === 'error' ? 'error' : v.expr);
}

/** `"\/Expr(<text>)\/"`: how the JSON unparser wraps anything that is not a plain value. */
function jsonExpr(text: string): string {
  return `"\\/Expr(${jsonString(text)})\\/"`;
}

/** A real as the JSON unparser prints it: `%.1f` for zero, `real("NaN")` expressions, else `%.16G` (+ `.0`). */
function jsonReal(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  if (Number.isNaN(x)) return jsonExpr('real("NaN")');
  if (x === Infinity) return jsonExpr('real("INF")');
  if (x === -Infinity) return jsonExpr('real("-INF")');
  const { digits, exp, neg } = cExponential(x, 15);
  const sign = neg ? '-' : '';
  let text: string;
  if (exp < -4 || exp >= 16) {
    // %G chooses the exponent style; trailing zeros (and a bare point) are dropped.
    const frac = digits.slice(1).replace(/0+$/, '');
    text = `${sign}${digits[0]}${frac === '' ? '' : `.${frac}`}E${expText(exp)}`;
  } else if (exp >= 0) {
    const int = digits.slice(0, exp + 1);
    const frac = digits.slice(exp + 1).replace(/0+$/, '');
    text = `${sign}${int}${frac === '' ? '' : `.${frac}`}`;
  } else {
    const frac = ('0'.repeat(-exp - 1) + digits).replace(/0+$/, '');
    text = `${sign}0.${frac}`;
  }
  return /[.Ee]/.test(text) ? text : `${text}.0`;
}

/**
 * A string (or name) as the JSON unparser escapes it: `"`, `\`, `\b\f\n\r\t`, other control
 * characters as `\u00XX`; `/` and non-ASCII characters are printed as they are.
 */
function jsonString(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/["\\\x00-\x1f]/.test(s)) return s;
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c < 0x20) out += `\\u00${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// C number formatting

/** A C exponent: sign and at least two digits (`+04`, `-123`). */
function expText(exp: number): string {
  return `${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/**
 * The `1 + precision` significant digits and decimal exponent that C's `%.<precision>E` prints
 * for a finite non-zero `x`. `toExponential` rounds exact halves away from zero; glibc rounds
 * them to even, so an exact tie (checked with integer arithmetic) is resolved downwards when
 * the shorter digit string ends even.
 */
function cExponential(x: number, precision: number): { digits: string; exp: number; neg: boolean } {
  const neg = x < 0;
  const a = Math.abs(x);
  const [m = '', e = '0'] = a.toExponential(precision).split('e');
  let digits = m.replace('.', '');
  let exp = Number(e);
  // A tie needs the exact expansion to be the kept digits followed by a single 5.
  const [lm = '', le = '0'] = a.toExponential(Math.min(100, precision + 30)).split('e');
  const long = lm.replace('.', '');
  const kept = long.slice(0, precision + 1);
  if (/^50*$/.test(long.slice(precision + 1)) && isExactly(a, `${kept}5`, Number(le) - precision - 1)) {
    const last = Number(kept[kept.length - 1]);
    if (last % 2 === 0) {
      digits = kept;
      exp = Number(le);
    }
  }
  return { digits, exp, neg };
}

/** True when the double `a` (> 0) equals the decimal `intDigits × 10^pow10` exactly. */
function isExactly(a: number, intDigits: string, pow10: number): boolean {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let pow2: number;
  if (biased === 0) pow2 = -1074;
  else {
    mant |= 1n << 52n;
    pow2 = biased - 1075;
  }
  // mant × 2^pow2 == d × 10^pow10  ⇔  mant × 2^pow2 × 10^-pow10 == d, cross-multiplied to integers.
  let left = mant;
  let right = BigInt(intDigits);
  if (pow2 >= 0) left <<= BigInt(pow2);
  else right <<= BigInt(-pow2);
  if (pow10 >= 0) right *= 10n ** BigInt(pow10);
  else left *= 10n ** BigInt(-pow10);
  return left === right;
}
