import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApfError } from '../../../../../src/errors.ts';
import { decodePickle, pickleToJson, type PickleKey, type PickleValue } from '../../../../../src/plugins/wms-status/panda/pickle.ts';

const FIX = new URL('../../../../fixtures/panda/', import.meta.url);
const bytes = (name: string): Buffer => readFileSync(new URL(name, FIX));
const json = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(name, FIX), 'utf8')) as Record<string, unknown>;

function pickleError(input: string | Uint8Array): ApfError {
  try {
    decodePickle(input);
  } catch (err) {
    if (err instanceof ApfError && err.code === 'APF_ERR_PICKLE') return err;
    throw new Error(`expected APF_ERR_PICKLE, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected the decoder to refuse the input');
}

const FIXTURES = [
  ['getJobStatisticsPerSite', 'py2-2011'],
  ['getJobStatisticsPerSite', 'py3'],
  ['getJobStatisticsWithLabel', 'py2-2011'],
  ['getJobStatisticsWithLabel', 'py3'],
] as const;

describe('plugins/wms-status/panda/pickle', () => {
  for (const [call, era] of FIXTURES) {
    it(`decodes ${call}.${era}.pickle0 to its decoded.json twin`, () => {
      const value = decodePickle(bytes(`${call}.${era}.pickle0`));
      expect(pickleToJson(value)).toEqual(json(`${call}.decoded.json`)[era]);
    });
  }

  it('keeps a None key distinct from the string "None" and "null"', () => {
    const value = decodePickle(bytes('getJobStatisticsPerSite.py2-2011.pickle0')) as Map<unknown, PickleValue>;
    expect(value.has(null)).toBe(true);
    expect(value.has('null')).toBe(false);
    expect((value.get(null) as Map<string, PickleValue>).get('cancelled')).toBe(11632);
  });

  it('resolves Python 3 memo GETs to the same key strings', () => {
    const value = decodePickle(bytes('getJobStatisticsPerSite.py3.pickle0')) as Map<string, Map<string, PickleValue>>;
    expect([...(value.get('BNL')?.keys() ?? [])]).toEqual(['activated', 'assigned', 'running', 'starting', 'holding', 'transferring']);
  });

  it('decodes escapes, latin-1 bytes, longs, floats, bools and a None key written by Python 3', () => {
    const value = decodePickle(bytes('tricky.py3.pickle0')) as Map<PickleValue, PickleValue>;
    expect(value.get('a\\b')).toBe(1);
    expect(value.get('n\nl')).toBe(2);
    expect(value.get('€uro')).toBe(3);
    expect(value.get('é')).toBe(4);
    expect(value.get('q\'"')).toBe(true);
    expect(value.get('big')).toBe(2n ** 70n);
    expect(value.get('neg')).toBe(-5);
    expect(value.get('f')).toBe(1.5);
    expect(value.get('inf')).toBe(Infinity);
    expect(value.get('none')).toBeNull();
    expect(value.get(null)).toBe(0);
    expect(value.get('sm')).toBe(2147483648);
    expect(value.get('r\r\x1a\x00z')).toBe(7);
    expect(pickleToJson(value.get('nested') as PickleValue)).toEqual({ x: { y: false } });
  });

  it('accepts a latin1 string as well as bytes', () => {
    const b = bytes('tricky.py3.pickle0');
    expect(pickleToJson(decodePickle(b.toString('latin1')))).toEqual(pickleToJson(decodePickle(b)));
  });

  it('decodes Python 2 repr strings with both quote styles and their escapes (as Python 3 pickle.loads does)', () => {
    const v = decodePickle(`}(S'it\\'s'\nS"it's"\nS'\\xc3\\xa9t\\xc3\\xa9'\nS'tab\\there\\n'\nS'\\101\\7'\nS'back\\\\slash \\q'\nI1\nI00\nu.`) as Map<
      PickleValue,
      PickleValue
    >;
    expect([...v]).toEqual([
      ["it's", 'it\'s'],
      ['été', 'tab\there\n'],
      ['A\x07', 'back\\slash \\q'],
      [1, false],
    ]);
  });

  it('raw-unicode-escape: an escaped backslash does not start an escape', () => {
    expect(decodePickle('V\\\\u0041\n.')).toBe('\\\\u0041');
    expect(decodePickle('V\\u0041\\U0001F600\\x\n.')).toBe('A😀\\x');
  });

  it('supports EMPTY_DICT, SETITEMS, POP and cPickle memo numbering from 1', () => {
    const v = decodePickle('}p1\n(Va\nI1\nVb\ng1\nuI5\n0.');
    const m = v as Map<string, PickleValue>;
    expect(m.get('a')).toBe(1);
    expect(m.get('b')).toBe(m);
  });

  it('reads L longs with and without the trailing L, and floats in Python repr forms', () => {
    expect(decodePickle('L12L\n.')).toBe(12);
    expect(decodePickle('L-99999999999999999999\n.')).toBe(-99999999999999999999n);
    expect(decodePickle('F-1e+100\n.')).toBe(-1e100);
    expect(decodePickle('F-inf\n.')).toBe(-Infinity);
    expect(Number.isNaN(decodePickle('Fnan\n.'))).toBe(true);
  });

  it('refuses a GLOBAL (a pickled decimal.Decimal), naming opcode, class and byte offset', () => {
    const body = "(dp0\nVCERN\np1\n(dp2\nVactivated\np3\ncdecimal\nDecimal\np4\n(V412\np5\ntp6\nRp7\nss.";
    const err = pickleError(body);
    const at = body.indexOf('cdecimal');
    expect(err.details).toEqual({ offset: at, opcode: "'c' (GLOBAL)" });
    expect(err.message).toContain('GLOBAL');
    expect(err.message).toContain('decimal.Decimal');
    expect(err.message).toContain(`byte ${at}`);
  });

  it.each([
    ['REDUCE', '(R.', "'R' (REDUCE)", 1],
    ['INST', '(imod\nCls\n.', "'i' (INST)", 1],
    ['BUILD', '}}b.', "'b' (BUILD)", 2],
    ['OBJ', '(o.', "'o' (OBJ)", 1],
    ['LIST', '(l.', "'l' (LIST)", 1],
    ['binary PROTO', '\x80\x02}q\x00.', '0x80 (PROTO)', 0],
    ['an unknown byte', 'Z', "'Z' (unknown)", 0],
  ])('refuses %s', (_name, body, opcode, offset) => {
    const err = pickleError(body);
    expect(err.details['opcode']).toBe(opcode);
    expect(err.details['offset']).toBe(offset);
  });

  it.each([
    ['GET of a slot never PUT', '(dg7\n.', 'never PUT'],
    ['SETITEM on a non-dict', 'I1\nI2\nI3\ns.', 'not a dict'],
    ['DICT with an odd number of items', '(I1\nd.', 'odd'],
    ['DICT without MARK', 'I1\nI2\nd.', 'without a MARK'],
    ['dict as a key', '(d}I1\ns.', 'unhashable'],
    ['unquoted STRING', 'Sabc\n.', 'quoted'],
    ['bad INT', 'I12x\n.', 'bad integer'],
    ['bad \\x escape', "S'\\xZZ'\n.", '\\x'],
    ['truncated \\u', 'V\\u00\n.', 'truncated'],
    ['STOP on empty stack', '.', 'empty stack'],
    ['no STOP', '(d', 'no STOP'],
  ])('rejects %s', (_name, body, words) => {
    expect(pickleError(body).message).toContain(words);
  });

  it('every truncation of every fixture is an APF_ERR_PICKLE, never a crash or a partial value', () => {
    for (const name of ['getJobStatisticsPerSite.py2-2011.pickle0', 'getJobStatisticsWithLabel.py3.pickle0', 'tricky.py3.pickle0']) {
      const b = bytes(name);
      for (let n = 0; n < b.length; n++) pickleError(b.subarray(0, n));
    }
  });

  it('random byte corruption yields a value or an APF_ERR_PICKLE, nothing else', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const base = bytes('getJobStatisticsWithLabel.py2-2011.pickle0');
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(base);
      for (let k = 0; k < 3; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      try {
        decodePickle(b);
      } catch (err) {
        expect(err).toBeInstanceOf(ApfError);
        expect((err as ApfError).code).toBe('APF_ERR_PICKLE');
        refused += 1;
      }
    }
    expect(refused).toBeGreaterThan(100);
  });

  it('pickleToJson converts keys as Python json.dumps does', () => {
    const m = new Map<PickleKey, PickleValue>([
      [null, 1],
      [true, 2],
      [3, 3n],
      ['__proto__', 4],
    ]);
    const out = pickleToJson(m) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['3', 'null', 'true', '__proto__']);
    expect(out['3']).toBe(3);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});
