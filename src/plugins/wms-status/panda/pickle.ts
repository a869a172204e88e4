/**
 * A safe decoder for the pickle protocol 0 bodies of PanDA's legacy calls
 * (`getJobStatisticsWithLabel`, `getJobStatisticsPerSite`), as written by Python 2 cPickle and
 * Python 3 `pickle.dumps(obj, protocol=0)` (formats.md §1.3).
 *
 * Only data opcodes are understood: MARK, DICT, EMPTY_DICT, SETITEM(S), the text opcodes
 * (`V` raw-unicode-escape, `S` Python-repr quoted), INT (with `I01`/`I00` booleans), LONG, FLOAT,
 * NONE, the memo opcodes PUT/GET, POP and STOP. Every other opcode — above all GLOBAL (`c`),
 * REDUCE (`R`), INST (`i`), OBJ (`o`) and BUILD (`b`), which would construct arbitrary objects —
 * is refused with `APF_ERR_PICKLE` naming the opcode and its byte offset. Nothing is ever
 * evaluated; the result is plain data.
 */
import { ApfError } from '../../../errors.ts';

/** A hashable pickle value (usable as a dict key). */
export type PickleKey = string | number | bigint | boolean | null;
/** A decoded pickle dict: a Map, so that a `None` key stays distinct from the string `"None"`. */
export type PickleDict = Map<PickleKey, PickleValue>;
/** Any value the decoder produces. Ints beyond 2^53 are bigints. */
export type PickleValue = PickleKey | PickleDict;

/** Opcode names for messages (refused ones included, so the message says what was met). */
const OPCODE_NAMES: Readonly<Record<string, string>> = {
  '(': 'MARK',
  '.': 'STOP',
  '0': 'POP',
  '1': 'POP_MARK',
  '2': 'DUP',
  F: 'FLOAT',
  I: 'INT',
  J: 'BININT',
  L: 'LONG',
  N: 'NONE',
  P: 'PERSID',
  Q: 'BINPERSID',
  R: 'REDUCE',
  S: 'STRING',
  T: 'BINSTRING',
  U: 'SHORT_BINSTRING',
  V: 'UNICODE',
  X: 'BINUNICODE',
  a: 'APPEND',
  b: 'BUILD',
  c: 'GLOBAL',
  d: 'DICT',
  '}': 'EMPTY_DICT',
  e: 'APPENDS',
  g: 'GET',
  h: 'BINGET',
  i: 'INST',
  j: 'LONG_BINGET',
  l: 'LIST',
  ']': 'EMPTY_LIST',
  o: 'OBJ',
  p: 'PUT',
  q: 'BINPUT',
  r: 'LONG_BINPUT',
  s: 'SETITEM',
  t: 'TUPLE',
  ')': 'EMPTY_TUPLE',
  u: 'SETITEMS',
  '\x80': 'PROTO',
  '\x93': 'STACK_GLOBAL',
  '\x95': 'FRAME',
};

const MARK: unique symbol = Symbol('MARK');
type Slot = PickleValue | typeof MARK;

/** Largest memo index accepted (protects against `p99999999999` allocating nothing but a huge sparse map key). */
const MAX_MEMO = 10_000_000;

function fail(message: string, offset: number, opcode: string | undefined): never {
  const shown = opcode === undefined ? undefined : opcodeLabel(opcode);
  throw new ApfError('APF_ERR_PICKLE', `pickle: ${message} at byte ${offset}`, {
    details: { offset, ...(shown === undefined ? {} : { opcode: shown }) },
  });
}

function opcodeLabel(op: string): string {
  const code = op.charCodeAt(0);
  const printable = code >= 0x21 && code <= 0x7e ? `'${op}'` : `0x${code.toString(16).padStart(2, '0')}`;
  const name = OPCODE_NAMES[op];
  return name === undefined ? `${printable} (unknown)` : `${printable} (${name})`;
}

/**
 * Decodes a protocol 0 pickle. A string is taken as a binary string (one char per byte, as
 * `latin1` decoding of the body gives). Rejects with `APF_ERR_PICKLE` on any refused opcode,
 * malformed argument, stack misuse or truncation.
 */
export function decodePickle(input: Uint8Array | string): PickleValue {
  const src = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  const stack: Slot[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = 0;

  const readLine = (opAt: number, op: string): string => {
    const nl = src.indexOf('\n', pos);
    if (nl < 0) fail(`truncated argument of ${opcodeLabel(op)}`, opAt, op);
    const line = src.slice(pos, nl);
    pos = nl + 1;
    return line;
  };
  const pop = (opAt: number, op: string): PickleValue => {
    const v = stack.pop();
    if (v === undefined) fail(`stack underflow in ${opcodeLabel(op)}`, opAt, op);
    if (v === MARK) fail(`unexpected MARK below ${opcodeLabel(op)}`, opAt, op);
    return v;
  };
  const popMark = (opAt: number, op: string): PickleValue[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) fail(`${opcodeLabel(op)} without a MARK`, opAt, op);
    const items = stack.splice(at) as PickleValue[];
    items.shift();
    return items;
  };
  const setItem = (d: PickleDict, key: PickleValue, value: PickleValue, opAt: number, op: string): void => {
    if (key instanceof Map) fail('unhashable dict key (a dict)', opAt, op);
    d.set(key, value);
  };

  while (pos < src.length) {
    const opAt = pos;
    const op = src[pos] as string;
    pos += 1;
    switch (op) {
      case '(':
        stack.push(MARK);
        break;
      case '}':
        stack.push(new Map());
        break;
      case 'd': {
        const items = popMark(opAt, op);
        if (items.length % 2 !== 0) fail('DICT with an odd number of items', opAt, op);
        const d: PickleDict = new Map();
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i] as PickleValue, items[i + 1] as PickleValue, opAt, op);
        stack.push(d);
        break;
      }
      case 's': {
        const value = pop(opAt, op);
        const key = pop(opAt, op);
        const d = stack.at(-1);
        if (!(d instanceof Map)) fail('SETITEM on something that is not a dict', opAt, op);
        setItem(d, key, value, opAt, op);
        break;
      }
      case 'u': {
        const items = popMark(opAt, op);
        const d = stack.at(-1);
        if (!(d instanceof Map)) fail('SETITEMS on something that is not a dict', opAt, op);
        if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items', opAt, op);
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i] as PickleValue, items[i + 1] as PickleValue, opAt, op);
        break;
      }
      case 'V':
        stack.push(rawUnicodeEscape(readLine(opAt, op), opAt));
        break;
      case 'S':
        stack.push(pyStringLiteral(readLine(opAt, op), opAt));
        break;
      case 'I':
        stack.push(parseInt0(readLine(opAt, op), opAt, op));
        break;
      case 'L': {
        const line = readLine(opAt, op);
        stack.push(parseBigInt(line.endsWith('L') ? line.slice(0, -1) : line, opAt, op));
        break;
      }
      case 'F':
        stack.push(parseFloat0(readLine(opAt, op), opAt));
        break;
      case 'N':
        stack.push(null);
        break;
      case 'p': {
        const n = memoIndex(readLine(opAt, op), opAt, op);
        const top = stack.at(-1);
        if (top === undefined || top === MARK) fail('PUT with nothing to store', opAt, op);
        memo.set(n, top);
        break;
      }
      case 'g': {
        const n = memoIndex(readLine(opAt, op), opAt, op);
        if (!memo.has(n)) fail(`GET of memo slot ${n} that was never PUT`, opAt, op);
        stack.push(memo.get(n) as PickleValue);
        break;
      }
      case '0':
        if (stack.length === 0) fail('POP on an empty stack', opAt, op);
        stack.pop();
        break;
      case '.': {
        if (stack.length === 0) fail('STOP on an empty stack', opAt, op);
        return pop(opAt, op);
      }
      case 'c': {
        // Name the class in the message (e.g. decimal.Decimal from pre-2023 servers), never load it.
        const nl1 = src.indexOf('\n', pos);
        const nl2 = nl1 < 0 ? -1 : src.indexOf('\n', nl1 + 1);
        const name = nl2 < 0 ? '' : ` ${printable(src.slice(pos, nl1))}.${printable(src.slice(nl1 + 1, nl2))}`;
        fail(`refused opcode ${opcodeLabel(op)}${name}`, opAt, op);
        break;
      }
      default:
        fail(`refused opcode ${opcodeLabel(op)}`, opAt, op);
    }
  }
  fail('truncated: no STOP opcode', pos, undefined);
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
}

function memoIndex(line: string, opAt: number, op: string): number {
  if (!/^\s*\d+\s*$/.test(line)) fail(`bad memo index "${printable(line)}"`, opAt, op);
  const n = Number(line.trim());
  if (n > MAX_MEMO) fail(`memo index ${n} too large`, opAt, op);
  return n;
}

/** INT: `I01`/`I00` are True/False (exactly these spellings), otherwise a decimal integer. */
function parseInt0(line: string, opAt: number, op: string): number | bigint | boolean {
  if (line === '01') return true;
  if (line === '00') return false;
  return parseBigInt(line, opAt, op);
}

function parseBigInt(line: string, opAt: number, op: string): number | bigint {
  const t = line.trim();
  if (!/^[+-]?\d+$/.test(t)) fail(`bad integer "${printable(line)}"`, opAt, op);
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : BigInt(t);
}

/** FLOAT: Python `repr(float)` text, including inf/nan. */
function parseFloat0(line: string, opAt: number): number {
  const t = line.trim().toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(t)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) fail(`bad float "${printable(line)}"`, opAt, 'F');
  return Number(t);
}

/**
 * Python's raw-unicode-escape decoding: `\uXXXX` / `\UXXXXXXXX` are escapes, a backslash followed
 * by anything else is kept with that character, every other byte is its own code point (latin-1).
 */
function rawUnicodeEscape(line: string, opAt: number): string {
  let out = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (ch !== '\\' || i + 1 >= line.length) {
      out += ch;
      continue;
    }
    const next = line[i + 1] as string;
    const width = next === 'u' ? 4 : next === 'U' ? 8 : 0;
    if (width === 0) {
      out += ch + next;
      i += 1;
      continue;
    }
    const hex = line.slice(i + 2, i + 2 + width);
    if (hex.length !== width || !/^[0-9a-fA-F]+$/.test(hex)) fail(`truncated \\${next} escape in UNICODE`, opAt, 'V');
    const cp = parseInt(hex, 16);
    if (cp > 0x10ffff) fail(`\\U escape beyond U+10FFFF in UNICODE`, opAt, 'V');
    out += String.fromCodePoint(cp);
    i += 1 + width;
  }
  return out;
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  '\\': 0x5c,
  "'": 0x27,
  '"': 0x22,
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
};

/**
 * STRING: a Python 2 `repr(str)` — quoted with `'` or `"`, with backslash escapes (`\n`, `\xhh`,
 * octal `\ooo`…) — decoded to bytes, then read as UTF-8.
 */
function pyStringLiteral(line: string, opAt: number): string {
  const q = line[0];
  if (line.length < 2 || (q !== "'" && q !== '"') || line[line.length - 1] !== q) {
    fail('the STRING argument must be quoted', opAt, 'S');
  }
  const body = line.slice(1, -1);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch !== '\\') {
      bytes.push(ch.charCodeAt(0) & 0xff);
      continue;
    }
    const next = body[i + 1];
    if (next === undefined) fail('trailing backslash in STRING', opAt, 'S');
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      bytes.push(simple);
      i += 1;
    } else if (next === 'x') {
      const hex = body.slice(i + 2, i + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) fail('invalid \\x escape in STRING', opAt, 'S');
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else if (/[0-7]/.test(next)) {
      const oct = /^[0-7]{1,3}/.exec(body.slice(i + 1))?.[0] ?? next;
      bytes.push(parseInt(oct, 8) & 0xff);
      i += oct.length;
    } else {
      // Python keeps unknown escapes verbatim.
      bytes.push(0x5c, next.charCodeAt(0) & 0xff);
      i += 1;
    }
  }
  return new TextDecoder('utf-8').decode(Uint8Array.from(bytes));
}

/**
 * The value as Python's `json.dumps` would write it: dicts become objects whose keys are
 * converted like Python does (`None` → `"null"`, `True` → `"true"`, numbers → their text),
 * bigints become numbers (precision may be lost beyond 2^53).
 */
export function pickleToJson(value: PickleValue): unknown {
  if (value instanceof Map) {
    // fromEntries defines own properties: a "__proto__" key stays a plain key.
    return Object.fromEntries([...value].map(([k, v]) => [jsonKey(k), pickleToJson(v)]));
  }
  if (typeof value === 'bigint') return Number(value);
  return value;
}

function jsonKey(k: PickleKey): string {
  if (k === null) return 'null';
  if (typeof k === 'boolean') return k ? 'true' : 'false';
  return String(k);
}
