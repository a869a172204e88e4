/** Null (APF 2.x): always 0 — a queue that must not submit. */
import { defineSchedPlugin } from '../define.ts';
import { pyInt } from './pyformat.ts';

/** `Null`: out = 0. */
export const nullPlugin = defineSchedPlugin({
  id: 'Null',
  family: 'sched',
  summary: 'always 0',
  options: {},
  create() {
    return (n) => ({ n: 0, msg: `Null:in=${pyInt(n)},out=0` });
  },
});
