/**
 * ClassAd syntax for the HTCondor simulator (a simulator, NOT HTCondor: a small re-implementation
 * of what the simulator needs): the value and tree types and the parser (new-ClassAd syntax, which
 * also reads what submit files and `-constraint` arguments use). Expressions are printed back as
 * HTCondor's `ClassAdUnParser` does, so that a submitted
 * `gridjobstatus=?=UNDEFINED` comes back from `condor_q -xml` as `gridjobstatus is undefined`
 * (the unparser is in classad-unparse.ts). Import both through classad-expr.ts, which adds
 * evaluation.
 */
import { ApfError } from '../../errors.ts';

/** The ERROR value of ClassAd evaluation (one shared frozen object). */
export const ERROR_VALUE: { readonly error: true } = Object.freeze({ error: true as const });

/** True for the ERROR value. */
export const isErrorValue = (v: ClassAdValue): v is { readonly error: true } => typeof v === 'object' && v !== null && 'error' in v;
/** True for a real. */
export const isRealValue = (v: ClassAdValue): v is { readonly real: number } => typeof v === 'object' && v !== null && 'real' in v;
/** True for a list. */
export const isListValue = (v: ClassAdValue): v is { readonly list: readonly ClassAdValue[] } => typeof v === 'object' && v !== null && 'list' in v;

/**
 * A ClassAd value during evaluation: `null` is UNDEFINED, a JS number is an integer, reals are
 * boxed (`1` and `1.0` are different ClassAd values), plus ERROR and lists.
 */
export type ClassAdValue =
  | null
  | boolean
  | string
  | number
  | { readonly real: number }
  | { readonly error: true }
  | { readonly list: readonly ClassAdValue[] };

/** Binary operators; `=?=`/`=!=` are stored as their new-syntax names `is`/`isnt`. */
export type BinaryOp =
  | '||' | '&&' | '|' | '^' | '&'
  | '==' | '!=' | 'is' | 'isnt'
  | '<' | '<=' | '>' | '>='
  | '<<' | '>>' | '>>>'
  | '+' | '-' | '*' | '/' | '%';

/** Unary operators. */
export type UnaryOp = '-' | '+' | '!' | '~';

/** A parsed expression. Parentheses are kept (the unparser prints them as written). */
export type ExprNode =
  | { readonly t: 'lit'; readonly v: ClassAdValue }
  /** `name`, or `scope.name` (`MY.x`, `TARGET.x`); `scope` keeps its spelling. */
  | { readonly t: 'ref'; readonly name: string; readonly scope: string | undefined }
  | { readonly t: 'un'; readonly op: UnaryOp; readonly e: ExprNode }
  | { readonly t: 'bin'; readonly op: BinaryOp; readonly l: ExprNode; readonly r: ExprNode }
  | { readonly t: 'paren'; readonly e: ExprNode }
  | { readonly t: 'cond'; readonly c: ExprNode; readonly a: ExprNode; readonly b: ExprNode }
  | { readonly t: 'elvis'; readonly c: ExprNode; readonly b: ExprNode }
  | { readonly t: 'call'; readonly name: string; readonly args: readonly ExprNode[] }
  | { readonly t: 'list'; readonly items: readonly ExprNode[] }
  | { readonly t: 'index'; readonly e: ExprNode; readonly i: ExprNode };

// ---------------------------------------------------------------------------------------------
// Lexer

type TokKind = 'int' | 'real' | 'str' | 'id' | 'qid' | 'op' | 'end';
interface Token {
  readonly k: TokKind;
  readonly s: string;
  /** Numeric value for int/real tokens. */
  readonly n: number;
  readonly pos: number;
}

// Longest operators first so that `=?=` wins over `=`, `>>>` over `>>`, …
const OPERATORS = ['>>>', '=?=', '=!=', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '?:',
  '<', '>', '+', '-', '*', '/', '%', '!', '~', '&', '|', '^', '(', ')', '{', '}', '[', ']', ',', '.', '?', ':'];

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', a: '\x07', v: '\v', '\\': '\\', '"': '"', "'": "'", '?': '?',
};

function syntaxError(text: string, pos: number, why: string): ApfError {
  return new ApfError('APF_ERR_SIM', `cannot parse ClassAd expression "${text}": ${why} at offset ${pos}`, {
    details: { expression: text, offset: pos },
  });
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^(\d*\.\d*(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+)/.exec(text.slice(i));
      const s = m?.[0] ?? ch;
      const isReal = /[.eE]/.test(s);
      out.push({ k: isReal ? 'real' : 'int', s, n: Number(s), pos: start });
      i += s.length;
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
      const s = m?.[0] ?? ch;
      out.push({ k: 'id', s, n: 0, pos: start });
      i += s.length;
      continue;
    }
    if (ch === '"' || ch === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= text.length) throw syntaxError(text, start, 'unterminated string');
        const c = text[i] as string;
        if (c === ch) {
          i++;
          break;
        }
        if (c === '\\' && i + 1 < text.length) {
          const nx = text[i + 1] as string;
          const oct = /^[0-7]{1,3}/.exec(text.slice(i + 1));
          if (oct !== null) {
            s += String.fromCharCode(parseInt(oct[0], 8));
            i += 1 + oct[0].length;
          } else {
            s += SIMPLE_ESCAPES[nx] ?? nx;
            i += 2;
          }
          continue;
        }
        s += c;
        i++;
      }
      out.push({ k: ch === '"' ? 'str' : 'qid', s, n: 0, pos: start });
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op === undefined) throw syntaxError(text, i, `unexpected character "${ch}"`);
    out.push({ k: 'op', s: op, n: 0, pos: start });
    i += op.length;
  }
  out.push({ k: 'end', s: '', n: 0, pos: text.length });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parser

const MAX_DEPTH = 400;

const LEVELS: ReadonlyArray<ReadonlyArray<string>> = [
  ['||'],
  ['&&'],
  ['|'],
  ['^'],
  ['&'],
  ['==', '!=', '=?=', '=!=', 'is', 'isnt'],
  ['<', '<=', '>', '>='],
  ['<<', '>>', '>>>'],
  ['+', '-'],
  ['*', '/', '%'],
];

class Parser {
  private i = 0;
  private depth = 0;
  private readonly toks: Token[];
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
    this.toks = tokenize(text);
  }

  parseAll(): ExprNode {
    const e = this.expression();
    const t = this.peek();
    if (t.k !== 'end') throw syntaxError(this.text, t.pos, `unexpected "${t.s}"`);
    return e;
  }

  private peek(): Token {
    return this.toks[this.i] as Token;
  }

  private next(): Token {
    const t = this.toks[this.i] as Token;
    if (t.k !== 'end') this.i++;
    return t;
  }

  private isOp(s: string): boolean {
    const t = this.peek();
    return t.k === 'op' && t.s === s;
  }

  private expect(s: string): void {
    const t = this.next();
    if (t.k !== 'op' || t.s !== s) throw syntaxError(this.text, t.pos, t.k === 'end' ? `missing "${s}"` : `expected "${s}" but found "${t.s}"`);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw syntaxError(this.text, this.peek().pos, 'expression nested too deeply');
  }

  private expression(): ExprNode {
    this.enter();
    const c = this.binary(0);
    let out = c;
    if (this.isOp('?:')) {
      this.next();
      out = { t: 'elvis', c, b: this.expression() };
    } else if (this.isOp('?')) {
      this.next();
      const a = this.expression();
      this.expect(':');
      out = { t: 'cond', c, a, b: this.expression() };
    }
    this.depth--;
    return out;
  }

  /** The binary operator at precedence `level` under the cursor, normalised, or undefined. */
  private binaryOpAt(level: number): BinaryOp | undefined {
    const t = this.peek();
    const ops = LEVELS[level] as ReadonlyArray<string>;
    let s: string | undefined;
    if (t.k === 'op' && ops.includes(t.s)) s = t.s;
    else if (t.k === 'id' && level === 5) {
      const low = t.s.toLowerCase();
      if (low === 'is' || low === 'isnt') s = low;
    }
    if (s === undefined) return undefined;
    if (s === '=?=') return 'is';
    if (s === '=!=') return 'isnt';
    return s as BinaryOp;
  }

  private binary(level: number): ExprNode {
    if (level >= LEVELS.length) return this.unary();
    let l = this.binary(level + 1);
    for (let op = this.binaryOpAt(level); op !== undefined; op = this.binaryOpAt(level)) {
      this.next();
      const r = this.binary(level + 1);
      l = { t: 'bin', op, l, r };
    }
    return l;
  }

  private unary(): ExprNode {
    const t = this.peek();
    if (t.k === 'op' && (t.s === '-' || t.s === '+' || t.s === '!' || t.s === '~')) {
      this.next();
      this.enter();
      const e = this.unary();
      this.depth--;
      return { t: 'un', op: t.s, e };
    }
    return this.postfix();
  }

  private postfix(): ExprNode {
    let e = this.primary();
    for (;;) {
      if (this.isOp('[')) {
        this.next();
        const i = this.expression();
        this.expect(']');
        e = { t: 'index', e, i };
      } else if (this.isOp('.') && e.t === 'ref' && e.scope === undefined) {
        // `MY.x`, `TARGET.x`: a one-level scope prefix is all job ads need.
        this.next();
        const n = this.next();
        if (n.k !== 'id' && n.k !== 'qid') throw syntaxError(this.text, n.pos, 'attribute name expected after "."');
        e = { t: 'ref', name: n.s, scope: e.name };
      } else {
        return e;
      }
    }
  }

  private primary(): ExprNode {
    const t = this.next();
    switch (t.k) {
      case 'int':
        return { t: 'lit', v: t.n };
      case 'real':
        return { t: 'lit', v: { real: t.n } };
      case 'str':
        return { t: 'lit', v: t.s };
      case 'qid':
        return { t: 'ref', name: t.s, scope: undefined };
      case 'id': {
        const low = t.s.toLowerCase();
        if (low === 'true') return { t: 'lit', v: true };
        if (low === 'false') return { t: 'lit', v: false };
        if (low === 'undefined') return { t: 'lit', v: null };
        if (low === 'error') return { t: 'lit', v: ERROR_VALUE };
        if (low === 'is' || low === 'isnt') throw syntaxError(this.text, t.pos, `unexpected "${t.s}"`);
        if (this.isOp('(')) {
          this.next();
          const args: ExprNode[] = [];
          if (!this.isOp(')')) {
            for (;;) {
              args.push(this.expression());
              if (!this.isOp(',')) break;
              this.next();
            }
          }
          this.expect(')');
          return { t: 'call', name: t.s, args };
        }
        return { t: 'ref', name: t.s, scope: undefined };
      }
      case 'op':
        if (t.s === '(') {
          const e = this.expression();
          this.expect(')');
          return { t: 'paren', e };
        }
        if (t.s === '{') {
          const items: ExprNode[] = [];
          if (!this.isOp('}')) {
            for (;;) {
              items.push(this.expression());
              if (!this.isOp(',')) break;
              this.next();
            }
          }
          this.expect('}');
          return { t: 'list', items };
        }
        throw syntaxError(this.text, t.pos, `unexpected "${t.s}"`);
      case 'end':
        throw syntaxError(this.text, t.pos, 'unexpected end of expression');
    }
  }
}

/**
 * Parses a ClassAd expression (new syntax; `=?=`/`=!=` and `UNDEFINED` of the old syntax are
 * accepted). Throws `APF_ERR_SIM` naming the offset of the problem.
 */
export function parseExpr(text: string): ExprNode {
  return new Parser(text).parseAll();
}
