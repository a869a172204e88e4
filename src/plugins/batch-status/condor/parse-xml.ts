/**
 * A single-pass scanner for the XML that `condor_q -xml` / `condor_history -xml` print
 * (formats.md §2.1–2.2). It knows the fixed grammar of HTCondor's XML unparser
 * (`<classads>`, `<c>`, `<a n="…">`, one value element) and walks it with `indexOf`/`charCodeAt`,
 * building only the ads: no DOM, no general XML machinery. On 100k pilots it is an order of
 * magnitude faster than a DOM parser (docs/benchmarks.md).
 *
 * Tolerated, because real condor_q output has them: several concatenated documents
 * (`condor_q -g`, old multi-schedd output), `-- Schedd: …` / `-- Submitter: …` banner lines and
 * blank lines outside documents, any whitespace between elements, an empty `<classads>`.
 * Everything else — truncation anywhere inside a document, unknown elements, text that is not
 * a banner, a malformed number — is an `APF_ERR_BATCH_OUTPUT` error: a listing that cannot be
 * read completely must never read as "fewer pilots".
 */
import { expressionValue, nameMapper, outputError, type JobAd, type ParseOptions, type ParsedValue } from './classad.ts';

/**
 * Parses condor XML output into job ads, in output order.
 * @throws ApfError `APF_ERR_BATCH_OUTPUT` on truncated, garbled or empty output.
 */
export function parseCondorXml(text: string, options: ParseOptions = {}): JobAd[] {
  return new XmlScanner(text, nameMapper(options.attributes)).run();
}

const LT = 60; // <
const GT = 62; // >
const QUOTE = 34; // "

const REAL = /^-?\d+(\.\d+)?([Ee][+-]?\d+)?$/;

class XmlScanner {
  readonly t: string;
  readonly len: number;
  readonly mapName: (printed: string) => string | undefined;
  p = 0;
  /**
   * The printed names met at each attribute position of the previous ads, and what they map to:
   * job ads of one listing print the same names in the same order, so comparing in place avoids
   * a slice and a hash lookup per attribute.
   */
  readonly slotRaw: string[] = [];
  readonly slotName: Array<string | undefined> = [];

  constructor(text: string, mapName: (printed: string) => string | undefined) {
    this.t = text;
    this.len = text.length;
    this.mapName = mapName;
  }

  run(): JobAd[] {
    const ads: JobAd[] = [];
    let documents = 0;
    for (;;) {
      this.skipWs();
      if (this.p >= this.len) break;
      if (this.t.startsWith('<?xml', this.p)) {
        this.document(ads);
        documents++;
      } else if (this.t.startsWith('--', this.p)) {
        // A banner line such as "-- Schedd: name : <addr>" (older condor_q, -g).
        const nl = this.t.indexOf('\n', this.p);
        this.p = nl < 0 ? this.len : nl + 1;
      } else {
        throw this.fail('text outside a <classads> document');
      }
    }
    // condor_q -xml prints header and footer even for an empty queue: no document at all means
    // the command printed nothing usable.
    if (documents === 0) throw outputError('xml', 'no <classads> document in the output', this.t, 0);
    return ads;
  }

  document(ads: JobAd[]): void {
    const declEnd = this.t.indexOf('?>', this.p);
    if (declEnd < 0) throw this.fail('unterminated XML declaration');
    this.p = declEnd + 2;
    this.skipWs();
    if (this.t.startsWith('<!DOCTYPE', this.p)) {
      const end = this.t.indexOf('>', this.p);
      if (end < 0) throw this.fail('unterminated DOCTYPE');
      this.p = end + 1;
      this.skipWs();
    }
    this.expect('<classads>');
    for (;;) {
      this.skipWs();
      if (this.t.startsWith('<c>', this.p)) {
        this.p += 3;
        ads.push(this.ad());
      } else if (this.t.startsWith('</classads>', this.p)) {
        this.p += 11;
        return;
      } else {
        throw this.fail(this.p >= this.len ? 'output ends inside <classads> (truncated)' : 'expected <c> or </classads>');
      }
    }
  }

  /** An ad's attributes up to and including `</c>` (the `<c>` is consumed). */
  ad(): JobAd {
    const ad: Record<string, ParsedValue> = {};
    const t = this.t;
    for (let slot = 0; ; slot++) {
      this.skipWs();
      if (t.startsWith('<a n="', this.p)) {
        const start = this.p + 6;
        let name: string | undefined;
        const known = this.slotRaw[slot];
        if (known !== undefined && t.startsWith(known, start) && t.charCodeAt(start + known.length) === QUOTE) {
          name = this.slotName[slot];
          this.p = start + known.length;
        } else {
          const q = t.indexOf('"', start);
          if (q < 0) throw this.fail('malformed <a> tag');
          const raw = t.slice(start, q);
          const printed = raw.includes('\\') || raw.includes('&') ? unescapeString(decodeEntities(raw, this), this) : raw;
          name = this.mapName(printed);
          this.slotRaw[slot] = raw;
          this.slotName[slot] = name;
          this.p = q;
        }
        if (t.charCodeAt(this.p + 1) !== GT) throw this.fail('malformed <a> tag');
        this.p += 2;
        const value = this.value();
        if (!t.startsWith('</a>', this.p)) throw this.fail('expected </a>');
        this.p += 4;
        if (name !== undefined) ad[name] = value;
      } else if (t.startsWith('</c>', this.p)) {
        this.p += 4;
        return ad;
      } else {
        throw this.fail(this.p >= this.len ? 'output ends inside an ad (truncated)' : 'expected <a> or </c>');
      }
    }
  }

  /** One value element. */
  value(): ParsedValue {
    const t = this.t;
    const p = this.p;
    if (t.charCodeAt(p) !== LT) throw this.fail('expected a value element');
    switch (t.charCodeAt(p + 1)) {
      case 105: // i
        if (t.charCodeAt(p + 2) === GT) {
          this.p = p + 3;
          return this.integer();
        }
        break;
      case 115: // s
        if (t.startsWith('<s>', p)) {
          this.p = p + 3;
          const raw = this.textUntil('</s>');
          return raw.includes('\\') || raw.includes('&') ? unescapeString(decodeEntities(raw, this), this) : raw;
        }
        if (t.startsWith('<s/>', p)) return this.take(4, '');
        break;
      case 98: // b
        if (t.startsWith('<b v="t"/>', p)) return this.take(10, true);
        if (t.startsWith('<b v="f"/>', p)) return this.take(10, false);
        break;
      case 117: // u
        if (t.startsWith('<un/>', p)) return this.take(5, null);
        break;
      case 114: // r
        if (t.startsWith('<r>', p)) {
          this.p = p + 3;
          return this.real(this.textUntil('</r>'));
        }
        if (t.startsWith('<rt>', p)) {
          this.p = p + 4;
          return { expr: `relTime("${decodeEntities(this.textUntil('</rt>'), this)}")` };
        }
        break;
      case 101: // e
        if (t.startsWith('<er/>', p)) return this.take(5, { expr: 'error' });
        if (t.startsWith('<e>', p)) {
          this.p = p + 3;
          return expressionValue(decodeEntities(this.textUntil('</e>'), this));
        }
        break;
      case 97: // a
        if (t.startsWith('<at>', p)) {
          this.p = p + 4;
          return { expr: `absTime("${decodeEntities(this.textUntil('</at>'), this)}")` };
        }
        break;
      case 108: // l
        if (t.startsWith('<l>', p)) {
          this.p = p + 3;
          return this.list();
        }
        break;
      case 99: // c
        if (t.startsWith('<c>', p)) {
          this.p = p + 3;
          return { ad: this.ad() };
        }
        break;
      default:
        break;
    }
    throw this.fail(p >= this.len ? 'output ends inside a value (truncated)' : 'unknown value element');
  }

  list(): ParsedValue[] {
    const items: ParsedValue[] = [];
    for (;;) {
      this.skipWs();
      if (this.t.startsWith('</l>', this.p)) {
        this.p += 4;
        return items;
      }
      items.push(this.value());
    }
  }

  /** `<i>` content: an optional sign and digits, then `</i>`. */
  integer(): number {
    const t = this.t;
    let p = this.p;
    const neg = t.charCodeAt(p) === 45;
    if (neg) p++;
    const start = p;
    let v = 0;
    let c = t.charCodeAt(p);
    while (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      c = t.charCodeAt(++p);
    }
    if (p === start) throw this.fail('malformed integer');
    // Beyond 15 digits the running product may round differently from a correctly rounded parse.
    if (p - start > 15) v = Number(t.slice(start, p));
    if (!t.startsWith('</i>', p)) throw this.fail('malformed integer');
    this.p = p + 4;
    return neg ? -v : v;
  }

  real(raw: string): number {
    if (REAL.test(raw)) return Number(raw);
    if (raw === 'NaN') return NaN;
    if (raw === 'INF') return Infinity;
    if (raw === '-INF') return -Infinity;
    throw this.fail(`malformed real "${raw.slice(0, 40)}"`);
  }

  /**
   * The text from the cursor to the next `<`, which must start `close`. Text content never holds
   * a raw `<` (the unparser escapes it), so stopping at the first one also catches a garbled or
   * truncated element instead of swallowing the structure up to a later closing tag.
   */
  textUntil(close: string): string {
    const lt = this.t.indexOf('<', this.p);
    if (lt < 0 || !this.t.startsWith(close, lt)) {
      throw this.fail(lt < 0 ? 'output ends inside a value (truncated)' : `expected ${close}`);
    }
    const raw = this.t.slice(this.p, lt);
    this.p = lt + close.length;
    return raw;
  }

  take<T extends ParsedValue>(n: number, v: T): T {
    this.p += n;
    return v;
  }

  expect(s: string): void {
    if (!this.t.startsWith(s, this.p)) throw this.fail(`expected ${s}`);
    this.p += s.length;
  }

  skipWs(): void {
    const t = this.t;
    let p = this.p;
    let c = t.charCodeAt(p);
    while (c === 32 || c === 10 || c === 9 || c === 13) c = t.charCodeAt(++p);
    this.p = p;
  }

  fail(message: string): Error {
    return outputError('xml', message, this.t, this.p);
  }
}

/** What reports an undecodable escape (the scanner, for its position). */
interface Failer {
  fail(message: string): Error;
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML entities: the five named ones and numeric references. */
function decodeEntities(s: string, where: Failer): string {
  if (!s.includes('&')) return s;
  return s.replace(/&([^;&]*);?/g, (m, body: string) => {
    if (!m.endsWith(';')) throw where.fail('unterminated entity');
    const named = ENTITIES[body];
    if (named !== undefined) return named;
    const num = /^#(\d+)$/.exec(body)?.[1] ?? /^#x([0-9a-fA-F]+)$/.exec(body)?.[1];
    if (num !== undefined) {
      const code = body.startsWith('#x') ? parseInt(num, 16) : parseInt(num, 10);
      if (code <= 0x10ffff) return String.fromCodePoint(code);
    }
    throw where.fail(`unknown entity &${body.slice(0, 20)};`);
  });
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  t: '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
};

/**
 * Undoes the ClassAd string escapes of the XML unparser: C escapes and `\ooo` octal bytes, which
 * together encode the string's UTF-8 bytes (non-ASCII characters arrive as runs of octal bytes).
 */
function unescapeString(s: string, where: Failer): string {
  if (!s.includes('\\')) return s;
  let out = '';
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length > 0) out += Buffer.from(bytes).toString('utf8');
    bytes = [];
  };
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    if (ch !== '\\') {
      flush();
      out += ch;
      continue;
    }
    const next = s[i + 1];
    if (next === undefined) throw where.fail('string ends with a lone backslash');
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      flush();
      out += simple;
      i += 1;
      continue;
    }
    const oct = /^[0-7]{1,3}/.exec(s.slice(i + 1, i + 4))?.[0];
    if (oct === undefined || parseInt(oct, 8) > 255) throw where.fail(`bad escape \\${next}`);
    bytes.push(parseInt(oct, 8));
    i += oct.length;
  }
  flush();
  return out;
}
