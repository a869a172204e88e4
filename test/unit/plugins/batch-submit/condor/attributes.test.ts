import { describe, expect, it } from 'vitest';
import {
  condorAttributeLines,
  condorAttributeMapLines,
  oneLine,
  splitCondorAttributes,
} from '../../../../../src/plugins/batch-submit/condor/attributes.ts';

describe('plugins/batch-submit/condor/attributes', () => {
  it('splits on plain commas', () => {
    expect(splitCondorAttributes('a = 1, b = 2,c=3')).toEqual(['a = 1', ' b = 2', 'c=3']);
  });

  it('applies APF\'s backslash rules before commas', () => {
    // one backslash: literal comma
    expect(splitCondorAttributes('x = f(1\\,2), y = 3')).toEqual(['x = f(1,2)', ' y = 3']);
    // two: one literal backslash, and the comma splits
    expect(splitCondorAttributes('a = x\\\\,b = 2')).toEqual(['a = x\\', 'b = 2']);
    // three: one backslash and a literal comma
    expect(splitCondorAttributes('a = x\\\\\\,y')).toEqual(['a = x\\,y']);
    // four: two backslashes, split
    expect(splitCondorAttributes('a\\\\\\\\,b')).toEqual(['a\\\\', 'b']);
    // backslashes elsewhere are kept as written
    expect(splitCondorAttributes('path = C:\\\\dir\\x, b')).toEqual(['path = C:\\\\dir\\x', ' b']);
    // a trailing backslash
    expect(splitCondorAttributes('a = 1\\')).toEqual(['a = 1\\']);
  });

  it('makes key = value lines, splitting at the first =', () => {
    expect(
      condorAttributeLines('request_memory = 2000, +AccountingGroup = "group_analysis.apf", requirements = (Memory >= 2000) && (Arch == "X86_64")'),
    ).toEqual(['request_memory = 2000', '+AccountingGroup = "group_analysis.apf"', 'requirements = (Memory >= 2000) && (Arch == "X86_64")']);
    expect(condorAttributeLines('periodic_remove = (JobStatus == 5 && x =?= 3)')).toEqual(['periodic_remove = (JobStatus == 5 && x =?= 3)']);
  });

  it('keeps escaped commas inside a value', () => {
    expect(condorAttributeLines('+remote_queue = "a\\,b", x=1')).toEqual(['+remote_queue = "a,b"', 'x = 1']);
  });

  it('writes items without = as they are, and drops empty items', () => {
    expect(condorAttributeLines('  , getenv, , a=1,')).toEqual(['getenv', 'a = 1']);
    expect(condorAttributeLines(undefined)).toEqual([]);
    expect(condorAttributeLines('')).toEqual([]);
  });

  it('turns continuation lines into separate lines, as in the file APF wrote', () => {
    expect(condorAttributeLines('a = 1,\n  b = 2\n  c = 3')).toEqual(['a = 1', 'b = 2', 'c = 3']);
  });

  it('writes the condor_attributes.<attr> entries in order', () => {
    expect(condorAttributeMapLines([['+maxMemory', ' 2000 '], ['grid_resource', 'cream ce:8443/x pbs q']])).toEqual([
      '+maxMemory = 2000',
      'grid_resource = cream ce:8443/x pbs q',
    ]);
  });

  it('folds multi-line values onto one line', () => {
    expect(oneLine('--a 1\n    --b 2')).toBe('--a 1 --b 2');
    expect(oneLine('x')).toBe('x');
  });
});
