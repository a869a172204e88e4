/**
 * Python value formatting for sched messages. APF built its messages with `%s` / `%d` under
 * Python 2.7, and monitors parse them, so the numbers must print exactly as Python printed them:
 * ints as ints, floats as Python 2.7 `str(float)` (12 significant digits, `.0` appended when the
 * text looks integral: `0.5`, `1.0`, `0.0277777777778`, `1e+16`, `inf`, `nan`), booleans as
 * `True`/`False` and `None` for unset values.
 *
 * JavaScript has no int/float distinction, so callers say which Python type a value had.
 */

/** Precision of Python 2.7's `str(float)` (`PyFloat_STR_PRECISION`). */
const STR_PRECISION = 12;

/**
 * |x| as an exact decimal `digits × 10^exp10` (x finite and non-zero). Every double is a dyadic
 * rational m·2^e, and m·2^-k = m·5^k·10^-k, so the expansion is exact and finite.
 */
function exactDecimal(x: number): { digits: bigint; exp10: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e2: number;
  if (biased === 0) {
    e2 = -1074; // subnormal: no implicit leading bit
  } else {
    mant |= 1n << 52n;
    e2 = biased - 1075;
  }
  if (e2 >= 0) return { digits: mant << BigInt(e2), exp10: 0 };
  return { digits: mant * 5n ** BigInt(-e2), exp10: e2 };
}

/**
 * C/Python `'%.<precision>g' % x`: rounded correctly (ties to even on the exact binary value, as
 * CPython's dtoa does — JavaScript's `toPrecision` breaks ties upwards, hence this own
 * implementation), trailing zeros removed, exponent form when the decimal exponent is below -4
 * or at least `precision`, with a signed exponent of at least two digits (`1e+16`, `1e-05`).
 */
export function formatG(x: number, precision: number = STR_PRECISION): string {
  const p = Math.max(1, Math.trunc(precision));
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  if (x === 0) return `${sign}0`;
  const { digits, exp10 } = exactDecimal(x);
  const all = digits.toString();
  let exp = all.length - 1 + exp10; // decimal exponent of the leading digit
  let sig = all;
  if (all.length > p) {
    const pow = 10n ** BigInt(all.length - p);
    let q = digits / pow;
    const r = digits % pow;
    const half = pow / 2n;
    if (r > half || (r === half && (q & 1n) === 1n)) q += 1n;
    sig = q.toString();
    if (sig.length > p) {
      // 99…9 rounded up to 10…0: one more digit, one higher exponent
      sig = sig.slice(0, p);
      exp += 1;
    }
  }
  sig = sig.replace(/0+$/, '');
  if (sig === '') sig = '0';
  if (exp < -4 || exp >= p) {
    const mantissa = sig.length > 1 ? `${sig[0]}.${sig.slice(1)}` : sig;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${mantissa}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${sig}`;
  const intPart = sig.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = sig.slice(exp + 1);
  return frac === '' ? `${sign}${intPart}` : `${sign}${intPart}.${frac}`;
}

/** Python 2.7 `str(x)` / `'%s' % x` of a float: `'%.12g'`, plus `.0` when that looks integral. */
export function pyFloat(x: number): string {
  const s = formatG(x, STR_PRECISION);
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

/**
 * Python `str(n)` of an int (also `%d`). Integral doubles beyond 2^53 print all their digits as
 * Python's arbitrary-precision ints do; `-0` prints `0`. A non-integral value cannot be a Python
 * int: it is printed as the float it is rather than hidden.
 */
export function pyInt(n: number): string {
  if (!Number.isInteger(n)) return pyFloat(n);
  if (n === 0) return '0';
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

/** Python `str(b)` of a bool. */
export function pyBool(b: boolean): string {
  return b ? 'True' : 'False';
}

/** `%s` of an int option that may be unset (`None`). */
export function pyOptInt(n: number | null | undefined): string {
  return n === undefined || n === null ? 'None' : pyInt(n);
}

/** `%s` of a float option that may be unset (`None`). */
export function pyOptFloat(x: number | null | undefined): string {
  return x === undefined || x === null ? 'None' : pyFloat(x);
}
