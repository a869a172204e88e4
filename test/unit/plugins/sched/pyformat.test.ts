import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatG, pyBool, pyFloat, pyInt, pyOptFloat, pyOptInt } from '../../../../src/plugins/sched/pyformat.ts';
import { rng } from './helpers.ts';

/** A double from 64 random bits (finite ones only). */
function randomDouble(r: () => number): number {
  const view = new DataView(new ArrayBuffer(8));
  for (;;) {
    view.setUint32(0, Math.floor(r() * 2 ** 32));
    view.setUint32(4, Math.floor(r() * 2 ** 32));
    const x = view.getFloat64(0);
    if (Number.isFinite(x)) return x;
  }
}

/** Values of every shape: random bit patterns, everyday magnitudes, integers, and exact ties. */
function samples(): number[] {
  const r = rng(20180210);
  const out: number[] = [];
  for (let i = 0; i < 150; i++) out.push(randomDouble(r));
  for (let i = 0; i < 150; i++) out.push((r() - 0.5) * 10 ** Math.floor(r() * 40 - 20));
  for (let i = 0; i < 60; i++) out.push(Math.floor((r() - 0.5) * 2 ** Math.floor(r() * 60)));
  for (let i = 0; i < 40; i++) out.push(Math.floor(r() * 1000) / Math.floor(1 + r() * 999));
  // exact decimal ties at the 13th significant digit (round-half-even territory), and carries
  out.push(12345678901.25, 12345678901.75, 1000000000000.5, 1000000000001.5, 2 ** 52 + 0.5, 999999999999.5);
  out.push(0.5, 1, 1 / 36, 1e16, 1e-5, 1e-4, 123456789012, 1234567890123, 5e-324, 1.7976931348623157e308, 0, -0);
  return out;
}

/** CPython formats the same doubles; the JSON strings are shortest round-trip reprs. */
function python(values: readonly number[], expr: string): string[] {
  const script = [
    'import json, sys',
    'xs = [float(s) for s in json.load(sys.stdin)]',
    `def f(x):\n    return ${expr}`,
    'print(json.dumps([f(x) for x in xs]))',
  ].join('\n');
  const text = execFileSync('python3', ['-c', script], {
    input: JSON.stringify(values.map((x) => (Object.is(x, -0) ? '-0.0' : String(x)))),
    encoding: 'utf8',
    timeout: 20_000,
  });
  return JSON.parse(text) as string[];
}

describe('plugins/sched/pyformat', () => {
  const xs = samples();

  it("formatG(x, 12) equals CPython '%.12g' % x for hundreds of doubles", () => {
    const want = python(xs, "'%.12g' % x");
    const got = xs.map((x) => formatG(x, 12));
    const diffs = xs.map((x, i) => [x, got[i], want[i]]).filter(([, g, w]) => g !== w);
    expect(diffs).toEqual([]);
    expect(xs.length).toBeGreaterThan(300);
  });

  it("formatG honours other precisions ('%.17g', '%.3g', '%.1g')", () => {
    for (const p of [17, 3, 1]) {
      const want = python(xs, `'%.${p}g' % x`);
      expect(xs.map((x) => formatG(x, p))).toEqual(want);
    }
  });

  it("pyFloat equals Python 2.7 str(float): '%.12g' plus '.0' when integral-looking", () => {
    const want = python(xs, "(lambda s: s + '.0' if s.lstrip('-').isdigit() else s)('%.12g' % x)");
    expect(xs.map(pyFloat)).toEqual(want);
  });

  it('prints the documented examples', () => {
    expect(pyFloat(0.5)).toBe('0.5');
    expect(pyFloat(1)).toBe('1.0');
    expect(pyFloat(1 / 36)).toBe('0.0277777777778');
    expect(pyFloat(1e16)).toBe('1e+16');
    expect(pyFloat(1e12)).toBe('1e+12');
    expect(pyFloat(123456789012)).toBe('123456789012.0');
    expect(pyFloat(0.1 + 0.2)).toBe('0.3');
    expect(pyFloat(1e-5)).toBe('1e-05');
    expect(pyFloat(0.0001)).toBe('0.0001');
    expect(pyFloat(-2.5)).toBe('-2.5');
    expect(pyFloat(-0)).toBe('-0.0');
    expect(pyFloat(0)).toBe('0.0');
    expect(pyFloat(Infinity)).toBe('inf');
    expect(pyFloat(-Infinity)).toBe('-inf');
    expect(pyFloat(NaN)).toBe('nan');
  });

  it('rounds exact ties to even as CPython does (not upwards like toPrecision)', () => {
    expect(formatG(12345678901.25, 12)).toBe('12345678901.2');
    expect(formatG(12345678901.75, 12)).toBe('12345678901.8');
    expect(formatG(1000000000000.5, 12)).toBe('1e+12');
    expect(formatG(999999999999.5, 12)).toBe('1e+12');
    expect((12345678901.25).toPrecision(12)).toBe('12345678901.3'); // why formatG exists
  });

  it('prints ints as Python ints', () => {
    expect(pyInt(0)).toBe('0');
    expect(pyInt(-0)).toBe('0');
    expect(pyInt(-17)).toBe('-17');
    expect(pyInt(86)).toBe('86');
    expect(pyInt(1e20)).toBe('100000000000000000000');
    expect(pyInt(-(2 ** 60))).toBe('-1152921504606846976');
    expect(pyInt(2.5)).toBe('2.5'); // not an int: shown as the float it is
  });

  it('prints booleans and None', () => {
    expect(pyBool(true)).toBe('True');
    expect(pyBool(false)).toBe('False');
    expect(pyOptInt(undefined)).toBe('None');
    expect(pyOptInt(null)).toBe('None');
    expect(pyOptInt(0)).toBe('0');
    expect(pyOptFloat(undefined)).toBe('None');
    expect(pyOptFloat(2)).toBe('2.0');
  });
});
