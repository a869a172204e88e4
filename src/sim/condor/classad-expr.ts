/**
 * ClassAd expression evaluation for the HTCondor simulator (a simulator, NOT HTCondor): what
 * `condor_q -constraint`, `condor_history -constraint` and `condor_rm -constraint` need. The
 * semantics follow HTCondor's ClassAd library (`operators.cpp`): strict operators propagate ERROR
 * then UNDEFINED, `==` compares strings case-insensitively, booleans promote to integers in
 * arithmetic and comparisons, `=?=`/`is` compare type and value without UNDEFINED, `&&`/`||` are
 * three-valued with short-circuit, numbers count as booleans in logical positions.
 * The syntax (classad-syntax.ts), the unparser (classad-unparse.ts) and the built-in functions
 * (classad-functions.ts) live beside it; import all of them from here.
 */
import type { Ad, AdValue } from './classad-format.ts';
import { FUNCTIONS } from './classad-functions.ts';
import { ERROR_VALUE, isErrorValue, isListValue, isRealValue, parseExpr, type BinaryOp, type ClassAdValue, type ExprNode } from './classad-syntax.ts';

export * from './classad-syntax.ts';
export * from './classad-unparse.ts';

/** What an expression is evaluated against. */
export interface EvalContext {
  /** The ad's attribute (MY scope), found case-insensitively; `undefined` when the ad lacks it. */
  readonly lookup: (name: string) => AdValue | undefined;
  /** Evaluation time in epoch seconds: `time()`, and `CurrentTime` when the ad does not define it. */
  readonly now: number;
}

type Err = { readonly error: true };
const isErr = isErrorValue;
const isReal = isRealValue;
const isList = isListValue;

const CACHE_LIMIT = 2000;
const cache = new Map<string, ExprNode>();

/**
 * {@link parseExpr} with a small cache: job ads of one submission share their expressions
 * (PeriodicRemove…), so a constraint over 100k ads parses each distinct text once.
 */
export function parseCached(text: string): ExprNode {
  let node = cache.get(text);
  if (node === undefined) {
    node = parseExpr(text);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(text, node);
  }
  return node;
}

/**
 * A case-insensitive attribute lookup over `ad`. The exact spelling is tried first; a map of
 * lower-cased names is built only on the first miss (most constraints spell names as the ad does).
 */
export function lookupInsensitive(ad: Ad): (name: string) => AdValue | undefined {
  let lower: Map<string, AdValue> | undefined;
  return (name) => {
    if (Object.hasOwn(ad, name)) return ad[name];
    if (lower === undefined) {
      lower = new Map();
      for (const [k, v] of Object.entries(ad)) lower.set(k.toLowerCase(), v);
    }
    return lower.get(name.toLowerCase());
  };
}

/** True for the values a constraint accepts: `true` or a non-zero number (HTCondor's EvalBool). */
export function isTrue(v: ClassAdValue): boolean {
  if (v === true) return true;
  if (typeof v === 'number') return v !== 0;
  return isReal(v) && v.real !== 0;
}

/** Names of the attributes of the evaluated ad (no scope or `MY.`) that an expression refers to. */
export function referencedAttributes(node: ExprNode): string[] {
  const out = new Set<string>();
  const walk = (n: ExprNode): void => {
    switch (n.t) {
      case 'ref':
        if (n.scope === undefined || n.scope.toLowerCase() === 'my') out.add(n.name);
        return;
      case 'lit':
        return;
      case 'un':
      case 'paren':
        walk(n.e);
        return;
      case 'bin':
        walk(n.l);
        walk(n.r);
        return;
      case 'cond':
        walk(n.c);
        walk(n.a);
        walk(n.b);
        return;
      case 'elvis':
        walk(n.c);
        walk(n.b);
        return;
      case 'call':
        n.args.forEach(walk);
        return;
      case 'list':
        n.items.forEach(walk);
        return;
      case 'index':
        walk(n.e);
        walk(n.i);
        return;
    }
  };
  walk(node);
  return [...out];
}

/** Evaluates `node` against an ad and answers whether the ad matches (see {@link isTrue}). */
export function matchesConstraint(node: ExprNode, ctx: EvalContext): boolean {
  return isTrue(evaluate(node, ctx));
}

/** Evaluates an expression. Never throws: problems evaluate to ERROR, as in HTCondor. */
export function evaluate(node: ExprNode, ctx: EvalContext): ClassAdValue {
  return new Evaluator(ctx).eval(node);
}

const MAX_ATTR_DEPTH = 50;

class Evaluator {
  private readonly ctx: EvalContext;
  /** Attributes being evaluated (lower-cased): a reference cycle evaluates to ERROR. */
  private readonly active = new Set<string>();

  constructor(ctx: EvalContext) {
    this.ctx = ctx;
  }

  eval(n: ExprNode): ClassAdValue {
    switch (n.t) {
      case 'lit':
        return n.v;
      case 'paren':
        return this.eval(n.e);
      case 'ref':
        return this.ref(n.name, n.scope);
      case 'un':
        return unary(n.op, this.eval(n.e));
      case 'bin':
        if (n.op === '&&' || n.op === '||') return this.logical(n.op, n.l, n.r);
        return binary(n.op, this.eval(n.l), this.eval(n.r));
      case 'cond': {
        const c = this.eval(n.c);
        if (c === null) return null;
        const b = boolEquiv(c);
        if (b === undefined) return ERROR_VALUE;
        return this.eval(b ? n.a : n.b);
      }
      case 'elvis': {
        const c = this.eval(n.c);
        return c === null ? this.eval(n.b) : c;
      }
      case 'list':
        return { list: n.items.map((i) => this.eval(i)) };
      case 'index': {
        const l = this.eval(n.e);
        const i = this.eval(n.i);
        if (isErr(l) || isErr(i)) return ERROR_VALUE;
        if (l === null || i === null) return null;
        if (!isList(l) || typeof i !== 'number' || i < 0 || i >= l.list.length) return ERROR_VALUE;
        return l.list[i] ?? ERROR_VALUE;
      }
      case 'call':
        return this.call(n.name.toLowerCase(), n.args);
    }
  }

  private ref(name: string, scope: string | undefined): ClassAdValue {
    const sc = scope?.toLowerCase();
    // A queue query has no TARGET ad; other scopes would be nested ads, which job ads lack.
    if (sc !== undefined && sc !== 'my') return null;
    const key = name.toLowerCase();
    const v = this.ctx.lookup(name);
    if (v === undefined) return key === 'currenttime' ? this.ctx.now : null;
    if (v === null || typeof v !== 'object' || 'real' in v) return v;
    if (this.active.has(key) || this.active.size >= MAX_ATTR_DEPTH) return ERROR_VALUE;
    let node: ExprNode;
    try {
      node = parseCached(v.expr);
    } catch {
      return ERROR_VALUE;
    }
    this.active.add(key);
    try {
      return this.eval(node);
    } finally {
      this.active.delete(key);
    }
  }

  private logical(op: '&&' | '||', l: ExprNode, r: ExprNode): ClassAdValue {
    const a = logicalValue(this.eval(l));
    if (isErr(a)) return ERROR_VALUE;
    // Short-circuit: the right side is not even evaluated.
    if (op === '&&' && a === false) return false;
    if (op === '||' && a === true) return true;
    const b = logicalValue(this.eval(r));
    if (a !== null) return b; // a is the neutral element here
    // a is UNDEFINED: the right side decides only when it is the absorbing element.
    if (isErr(b)) return ERROR_VALUE;
    if (op === '&&') return b === false ? false : null;
    return b === true ? true : null;
  }

  private call(name: string, argNodes: readonly ExprNode[]): ClassAdValue {
    if (name === 'ifthenelse') {
      if (argNodes.length !== 3) return ERROR_VALUE;
      const c = this.eval(argNodes[0] as ExprNode);
      if (c === null) return null;
      const b = boolEquiv(c);
      if (b === undefined) return ERROR_VALUE;
      return this.eval((b ? argNodes[1] : argNodes[2]) as ExprNode);
    }
    const fn = FUNCTIONS[name];
    if (fn === undefined) return ERROR_VALUE;
    return fn(argNodes.map((a) => this.eval(a)), this.ctx);
  }
}

/** A value in a logical position: booleans; numbers as non-zero; UNDEFINED/ERROR kept; else ERROR. */
function logicalValue(v: ClassAdValue): boolean | null | Err {
  if (v === null || typeof v === 'boolean' || isErr(v)) return v;
  const b = boolEquiv(v);
  return b === undefined ? ERROR_VALUE : b;
}

/** HTCondor's IsBooleanValueEquiv: booleans, and numbers (non-zero is true). */
export function boolEquiv(v: ClassAdValue): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (isReal(v)) return v.real !== 0;
  return undefined;
}

type Num = { readonly int: boolean; readonly n: number };

/** Numeric view of a value (booleans promote to 0/1), or undefined. */
function num(v: ClassAdValue): Num | undefined {
  if (typeof v === 'number') return { int: true, n: v };
  if (typeof v === 'boolean') return { int: true, n: v ? 1 : 0 };
  if (isReal(v)) return { int: false, n: v.real };
  return undefined;
}

function unary(op: string, v: ClassAdValue): ClassAdValue {
  if (isErr(v)) return ERROR_VALUE;
  if (v === null) return null;
  switch (op) {
    case '!': {
      const b = boolEquiv(v);
      return b === undefined ? ERROR_VALUE : !b;
    }
    case '-':
      if (typeof v === 'number') return -v;
      if (isReal(v)) return { real: -v.real };
      return ERROR_VALUE;
    case '+':
      return typeof v === 'number' || isReal(v) ? v : ERROR_VALUE;
    default: // '~'
      return typeof v === 'number' ? Number(BigInt.asIntN(64, ~BigInt(v))) : ERROR_VALUE;
  }
}

function binary(op: BinaryOp, a: ClassAdValue, b: ClassAdValue): ClassAdValue {
  if (op === 'is') return identical(a, b);
  if (op === 'isnt') return !identical(a, b);
  // Strict operators: ERROR first, then UNDEFINED.
  if (isErr(a) || isErr(b)) return ERROR_VALUE;
  if (a === null || b === null) return null;
  switch (op) {
    case '==':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=':
      return compare(op, a, b);
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      return arithmetic(op, a, b);
    default:
      return bitwise(op, a, b);
  }
}

/** `=?=` / `is`: same type and same value (strings case-sensitive); never UNDEFINED. */
function identical(a: ClassAdValue, b: ClassAdValue): boolean {
  if (a === null || b === null) return a === b;
  if (isErr(a) || isErr(b)) return isErr(a) && isErr(b);
  if (typeof a !== typeof b) return false;
  if (typeof a !== 'object') return a === b;
  if (isReal(a)) return isReal(b) && a.real === b.real;
  if (isList(a) && isList(b)) return a.list.length === b.list.length && a.list.every((x, i) => identical(x, b.list[i] as ClassAdValue));
  return false;
}

function compare(op: BinaryOp, a: ClassAdValue, b: ClassAdValue): ClassAdValue {
  let c: number;
  if (typeof a === 'string' || typeof b === 'string') {
    if (typeof a !== 'string' || typeof b !== 'string') return ERROR_VALUE;
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    c = x < y ? -1 : x > y ? 1 : 0;
  } else {
    const x = num(a);
    const y = num(b);
    if (x === undefined || y === undefined) return ERROR_VALUE;
    c = x.n < y.n ? -1 : x.n > y.n ? 1 : 0;
  }
  switch (op) {
    case '==':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    default:
      return c >= 0;
  }
}

function arithmetic(op: BinaryOp, a: ClassAdValue, b: ClassAdValue): ClassAdValue {
  const x = num(a);
  const y = num(b);
  if (x === undefined || y === undefined) return ERROR_VALUE;
  if (x.int && y.int) {
    switch (op) {
      case '+':
        return x.n + y.n;
      case '-':
        return x.n - y.n;
      case '*':
        return x.n * y.n;
      case '/':
        return y.n === 0 ? ERROR_VALUE : Math.trunc(x.n / y.n);
      default:
        return y.n === 0 ? ERROR_VALUE : x.n % y.n;
    }
  }
  let r: number;
  switch (op) {
    case '+':
      r = x.n + y.n;
      break;
    case '-':
      r = x.n - y.n;
      break;
    case '*':
      r = x.n * y.n;
      break;
    case '/':
      r = x.n / y.n;
      break;
    default:
      return ERROR_VALUE; // modulus is not defined on reals
  }
  return Number.isFinite(r) ? { real: r } : ERROR_VALUE;
}

function bitwise(op: BinaryOp, a: ClassAdValue, b: ClassAdValue): ClassAdValue {
  if (typeof a !== 'number' || typeof b !== 'number') return ERROR_VALUE;
  const x = BigInt.asIntN(64, BigInt(a));
  const y = BigInt.asIntN(64, BigInt(b));
  let r: bigint;
  switch (op) {
    case '|':
      r = x | y;
      break;
    case '^':
      r = x ^ y;
      break;
    case '&':
      r = x & y;
      break;
    case '<<':
      r = x << (y & 63n);
      break;
    case '>>':
      r = x >> (y & 63n);
      break;
    default: // '>>>'
      r = BigInt.asUintN(64, x) >> (y & 63n);
      break;
  }
  return Number(BigInt.asIntN(64, r));
}
