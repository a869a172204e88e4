/**
 * Encoders the PanDA simulator needs to answer like the real server: Python 3
 * `pickle.dumps(obj, protocol=0)` (the legacy calls' body) and Python `str(dict)` (what the v1
 * API sends when the request lacks `Accept: application/json`).
 *
 * This is test tooling: the factory itself only ever decodes pickles, with a safe decoder.
 */

/** A `decimal.Decimal` (what pre-2023 servers could put in a pickle); encoded as GLOBAL + REDUCE. */
export interface PyDecimal {
  readonly pyDecimal: string;
}

/** A Python value: dicts are Maps (any hashable key, `null` = None) or plain objects. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyDecimal
  | ReadonlyMap<string | number | boolean | null, PyValue>
  | { readonly [key: string]: PyValue };

function isDecimal(v: object): v is PyDecimal {
  return typeof (v as { pyDecimal?: unknown }).pyDecimal === 'string';
}

function entriesOf(v: object): Array<[string | number | boolean | null, PyValue]> {
  if (v instanceof Map) return [...(v as ReadonlyMap<string | number | boolean | null, PyValue>)];
  return Object.entries(v as Record<string, PyValue>);
}

/** Python `repr(float)`: shortest round-trip digits, `.0` on integral values, two-digit exponents. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  const [mant = '', expText = '0'] = x.toExponential().split('e');
  const exp = Number(expText);
  // Python switches to exponent form below 1e-4 and from 1e16; JS's String() agrees in between.
  if (exp < -4 || exp >= 16) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(x);
}

/** Python 3's raw-unicode-escape of a `V` line, after pickle's own escaping of `\`, NUL, LF, CR, ^Z. */
function unicodeLine(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '\\' || ch === '\0' || ch === '\n' || ch === '\r' || ch === '\x1a') out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else if (cp > 0xffff) out += `\\U${cp.toString(16).padStart(8, '0')}`;
    else if (cp > 0xff) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

/**
 * Python 3 `pickle.dumps(value, protocol=0)`. Returns bytes. Strings equal in value share a memo
 * slot (as interned keys do on the real server), so repeated keys are written as `g<n>`.
 */
export function encodePickle0(value: PyValue): Buffer {
  let out = '';
  const memo = new Map<string, number>();
  let next = 0;
  const put = (key: string | undefined): void => {
    if (key !== undefined) memo.set(key, next);
    out += `p${next}\n`;
    next += 1;
  };
  const save = (v: PyValue): void => {
    if (v === null) {
      out += 'N';
    } else if (typeof v === 'boolean') {
      out += v ? 'I01\n' : 'I00\n';
    } else if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER)) {
      const n = BigInt(v);
      out += n >= -0x80000000n && n <= 0x7fffffffn ? `I${n}\n` : `L${n}L\n`;
    } else if (typeof v === 'number') {
      out += `F${pyFloatRepr(v)}\n`;
    } else if (typeof v === 'string') {
      const slot = memo.get(`s:${v}`);
      if (slot !== undefined) {
        out += `g${slot}\n`;
        return;
      }
      out += `V${unicodeLine(v)}\n`;
      put(`s:${v}`);
    } else if (isDecimal(v)) {
      const cls = memo.get('c:decimal.Decimal');
      if (cls === undefined) {
        out += 'cdecimal\nDecimal\n';
        put('c:decimal.Decimal');
      } else {
        out += `g${cls}\n`;
      }
      out += '(';
      save(v.pyDecimal);
      out += 't';
      put(undefined);
      out += 'R';
      put(undefined);
    } else {
      out += '(d';
      put(undefined);
      for (const [k, item] of entriesOf(v)) {
        save(k);
        save(item);
        out += 's';
      }
    }
  };
  save(value);
  out += '.';
  return Buffer.from(out, 'latin1');
}

/** Python `repr(str)`. */
export function pyStrRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === q || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0)) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + q;
}

/** Python `str(value)` for the JSON-like values the v1 API returns (`True`, `None`, single quotes). */
export function pyRepr(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloatRepr(v);
  if (typeof v === 'string') return pyStrRepr(v);
  if (isDecimal(v)) return `Decimal(${pyStrRepr(v.pyDecimal)})`;
  return `{${entriesOf(v)
    .map(([k, item]) => `${pyRepr(k)}: ${pyRepr(item)}`)
    .join(', ')}}`;
}
