/**
 * Built-in ClassAd functions of the HTCondor simulator's evaluator (a simulator, NOT HTCondor):
 * `time`, `stringListMember`/`stringListIMember`, the `is*` type tests, `toUpper`, `toLower`,
 * `size`. Names are case-insensitive; an unknown function evaluates to ERROR, as in HTCondor.
 * `ifThenElse` is evaluated lazily by the evaluator itself.
 */
import type { EvalContext } from './classad-expr.ts';
import { ERROR_VALUE, isErrorValue, isListValue, isRealValue, type ClassAdValue } from './classad-syntax.ts';

/** A built-in function over evaluated arguments. */
export type ClassAdFunction = (args: readonly ClassAdValue[], ctx: EvalContext) => ClassAdValue;
type Fn = ClassAdFunction;

const typeTest =
  (test: (v: ClassAdValue) => boolean): Fn =>
  (args) =>
    args.length === 1 ? test(args[0] as ClassAdValue) : ERROR_VALUE;

/** stringListMember(item, list [, delimiters]): item is one of the delimited, trimmed members. */
function stringListMember(insensitive: boolean): Fn {
  return (args) => {
    if (args.length < 2 || args.length > 3) return ERROR_VALUE;
    if (args.some(isErrorValue)) return ERROR_VALUE;
    if (args.some((a) => a === null)) return null;
    const [item, list, delims = ', '] = args;
    if (typeof item !== 'string' || typeof list !== 'string' || typeof delims !== 'string') return ERROR_VALUE;
    const want = insensitive ? item.toLowerCase() : item;
    let cur = '';
    const members: string[] = [];
    for (const ch of list) {
      if (delims.includes(ch)) {
        members.push(cur);
        cur = '';
      } else cur += ch;
    }
    members.push(cur);
    return members.some((m) => {
      const t = m.trim();
      return t !== '' && (insensitive ? t.toLowerCase() : t) === want;
    });
  };
}

function stringFn(f: (s: string) => ClassAdValue): Fn {
  return (args) => {
    if (args.length !== 1) return ERROR_VALUE;
    const [v] = args;
    if (v === null) return null;
    return typeof v === 'string' ? f(v) : ERROR_VALUE;
  };
}

/** The built-in functions by lower-cased name. */
export const FUNCTIONS: Readonly<Record<string, Fn>> = {
  time: (args, ctx) => (args.length === 0 ? ctx.now : ERROR_VALUE),
  isundefined: typeTest((v) => v === null),
  iserror: typeTest(isErrorValue),
  isstring: typeTest((v) => typeof v === 'string'),
  isinteger: typeTest((v) => typeof v === 'number'),
  isreal: typeTest(isRealValue),
  isboolean: typeTest((v) => typeof v === 'boolean'),
  islist: typeTest(isListValue),
  stringlistmember: stringListMember(false),
  stringlistimember: stringListMember(true),
  toupper: stringFn((s) => s.toUpperCase()),
  tolower: stringFn((s) => s.toLowerCase()),
  size: (args) => {
    if (args.length !== 1) return ERROR_VALUE;
    const v = args[0] as ClassAdValue;
    if (v === null) return null;
    if (typeof v === 'string') return v.length;
    return isListValue(v) ? v.list.length : ERROR_VALUE;
  },
};
