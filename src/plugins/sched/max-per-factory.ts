/**
 * MaxPerFactory (APF 2.4.14): caps the pilots of the whole factory. T = pending + running summed
 * over every queue of the batch snapshot (`input.batchTotal`); the maximum is the `[Factory]` key
 * `maxperfactory.maximum` (`input.maxPerFactory`), so the plugin has no keys of its own.
 *
 * Two APF quirks are kept on purpose: missing batch info raised (the cycle fails), and with the
 * maximum unset Python 2 read `T > None` as true, so the result was always 0 (`maxperfactory=None`).
 * The config loader warns about that combination.
 */
import { ApfError } from '../../errors.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyInt, pyOptInt } from './pyformat.ts';

/** `MaxPerFactory`: T > max → 0; n + T > max → max − T; else n. Unset max → always 0. */
export const maxPerFactoryPlugin = defineSchedPlugin({
  id: 'MaxPerFactory',
  family: 'sched',
  summary: 'caps all pilots of the factory at [Factory] maxperfactory.maximum (unset: always 0, as APF)',
  options: {},
  create() {
    return (n, input) => {
      if (input.batchTotal === null) {
        throw new ApfError('APF_ERR_SCHED', 'MaxPerFactory: no batch info (APF raised here too)', {
          details: { plugin: 'MaxPerFactory', in: n },
        });
      }
      const total = input.batchTotal.running + input.batchTotal.pending;
      const max = input.maxPerFactory;
      let out = n;
      if (max === undefined || total > max) out = 0; // Python 2: int > None is True
      else if (n + total > max) out = max - total;
      return {
        n: out,
        msg: `MaxPerFactory:in=${pyInt(n)},total=${pyInt(total)},maxperfactory=${pyOptInt(max)},ret=${pyInt(out)}`,
      };
    };
  },
});
