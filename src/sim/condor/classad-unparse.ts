/**
 * Printing ClassAd expressions and values for the HTCondor simulator (a simulator, NOT HTCondor),
 * exactly as HTCondor's `ClassAdUnParser` does (sink.cpp): new syntax for `condor_q -xml`/`-json`
 * expressions, old syntax for `-long` and `condor_submit -verbose`; and the conversion of a
 * submit-file right-hand side into a typed attribute value.
 */
import type { AdValue } from './classad-format.ts';
import { parseExpr, type ClassAdValue, type ExprNode, type UnaryOp } from './classad-syntax.ts';

/** Options of {@link unparse}. */
export interface UnparseOptions {
  /**
   * Old ClassAd syntax, as `condor_q -long` and `condor_submit -verbose` print: `=?=`/`=!=`,
   * reals as `%.16G`, backslashes in strings left as they are.
   * @defaultValue false (new syntax, as in `condor_q -xml`/`-json`)
   */
  readonly old?: boolean;
}

// One space each side of binary operators; unary operators carry a leading space, exactly as
// HTCondor's opString table has them (so `a && !b` prints as `a &&  !b`).
const UNARY_TEXT: Readonly<Record<UnaryOp, string>> = { '-': ' -', '+': ' +', '!': ' !', '~': ' ~' };
const RESERVED = new Set(['error', 'false', 'is', 'isnt', 'parent', 'true', 'undefined']);

/** Prints an expression the way HTCondor's ClassAd unparser does. */
export function unparse(node: ExprNode, options: UnparseOptions = {}): string {
  const old = options.old === true;
  const u = (n: ExprNode): string => {
    switch (n.t) {
      case 'lit':
        return valueText(n.v, old);
      case 'ref':
        return n.scope === undefined ? identText(n.name) : `${identText(n.scope)}.${identText(n.name)}`;
      case 'un':
        return UNARY_TEXT[n.op] + u(n.e);
      case 'bin': {
        const op = old && n.op === 'is' ? '=?=' : old && n.op === 'isnt' ? '=!=' : n.op;
        return `${u(n.l)} ${op} ${u(n.r)}`;
      }
      case 'paren':
        return `(${u(n.e)})`;
      case 'cond':
        return `${u(n.c)} ? ${u(n.a)} : ${u(n.b)}`;
      case 'elvis':
        return `${u(n.c)} ?: ${u(n.b)}`;
      case 'call':
        return `${n.name}(${n.args.map(u).join(',')})`;
      case 'list':
        return `{ ${n.items.map(u).join(',')} }`;
      case 'index':
        return `${u(n.e)}[${u(n.i)}]`;
    }
  };
  return u(node);
}

function identText(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !RESERVED.has(name.toLowerCase())) return name;
  return `'${name.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** A value as ClassAd source text (new syntax unless `old`). */
export function valueText(v: ClassAdValue, old = false): string {
  if (v === null) return 'undefined';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return quoteString(v, old);
  if ('real' in v) return realText(v.real, old);
  if ('error' in v) return 'error';
  return `{ ${v.list.map((x) => valueText(x, old)).join(',')} }`;
}

const STRING_ESCAPES: Readonly<Record<string, string>> = {
  '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\',
};

/** A string literal as the unparser quotes it (old syntax only escapes the quote). */
export function quoteString(s: string, old = false): string {
  let out = '"';
  for (const ch of s) {
    if (ch === '"') out += '\\"';
    else if (old) out += ch;
    else if (STRING_ESCAPES[ch] !== undefined) out += STRING_ESCAPES[ch];
    else if (ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f) out += `\\${ch.charCodeAt(0).toString(8).padStart(3, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** A real literal: `0.0`; `real("NaN")`/`real("INF")`; new syntax `%1.15E`; old syntax `%.16G` (+`.0`). */
export function realText(x: number, old = false): string {
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  if (Number.isNaN(x)) return 'real("NaN")';
  if (!Number.isFinite(x)) return x > 0 ? 'real("INF")' : 'real("-INF")';
  const [m = '', e = '0'] = x.toExponential(15).split('e');
  const exp = Number(e);
  const expStr = `${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  if (!old) return `${m}E${expStr}`;
  // %.16G: 16 significant digits, exponent style when exp < -4 or exp >= 16, trailing zeros dropped.
  const neg = m.startsWith('-');
  const digits = m.replace('-', '').replace('.', '');
  let text: string;
  if (exp < -4 || exp >= 16) {
    const frac = digits.slice(1).replace(/0+$/, '');
    text = `${digits[0]}${frac === '' ? '' : `.${frac}`}E${expStr}`;
  } else if (exp >= 0) {
    const frac = digits.slice(exp + 1).replace(/0+$/, '');
    text = `${digits.slice(0, exp + 1)}${frac === '' ? '' : `.${frac}`}`;
  } else {
    text = `0.${('0'.repeat(-exp - 1) + digits).replace(/0+$/, '')}`;
  }
  if (!/[.E]/.test(text)) text += '.0';
  return (neg ? '-' : '') + text;
}

// ---------------------------------------------------------------------------------------------
// Conversions between expressions and stored attribute values

/**
 * The typed attribute value a submit-file right-hand side stands for: a literal becomes a plain
 * value (string unquoted, integer, real, boolean, `null` for undefined; `-5` is the integer -5),
 * anything else is kept as `{ expr }` in new-ClassAd syntax. Throws `APF_ERR_SIM` when the text
 * is not an expression.
 */
export function exprToAdValue(text: string): AdValue {
  const node = parseExpr(text);
  const lit = literalOf(node);
  if (lit !== undefined) return lit;
  return { expr: unparse(node) };
}

function literalOf(node: ExprNode): AdValue | undefined {
  if (node.t === 'un' && (node.op === '-' || node.op === '+') && node.e.t === 'lit') {
    const v = node.e.v;
    const sign = node.op === '-' ? -1 : 1;
    if (typeof v === 'number') return sign * v;
    if (v !== null && typeof v === 'object' && 'real' in v) return { real: sign * v.real };
    return undefined;
  }
  if (node.t !== 'lit') return undefined;
  const v = node.v;
  if (v === null || typeof v !== 'object') return v;
  if ('real' in v) return { real: v.real };
  if ('error' in v) return { expr: 'error' };
  return undefined;
}

/** An attribute value as ClassAd source text (for `-long` output and `-verbose` ads). */
export function adValueText(v: AdValue, old = true): string {
  if (v !== null && typeof v === 'object' && 'expr' in v) {
    // Stored in new syntax; reprint in the requested syntax.
    return old ? unparse(parseExpr(v.expr), { old: true }) : v.expr;
  }
  return valueText(v, old);
}
