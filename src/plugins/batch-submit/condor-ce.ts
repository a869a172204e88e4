/**
 * CondorCE: APF's generic CE level (`CondorCE` ← `CondorGrid` ← `CondorBase`), selectable on its
 * own. It writes `+Nonessential = True`, the grid lines and the base lines but no `grid_resource`:
 * give one with `batchsubmit.condorce.condor_attributes.grid_resource = <type> <target>`.
 * Keys may be written under `batchsubmit.condorce.`, `.condorgrid.` or `.condorbase.`.
 */
import { defineBatchSubmitPlugin, type BatchSubmitter, type SubmitContext } from '../define.ts';
import { condorAttributeLines, condorAttributeMapLines } from './condor/attributes.ts';
import { condorKeyChain } from './condor/keys.ts';
import { ceHeadLines } from './condor/levels.ts';
import { CE_OPTIONS, type CeOptionValues } from './condor/options.ts';
import { createCondorSubmitter, type CondorCommands } from './condor/submitter.ts';

/** Builds a CondorCE submitter (`commands` for tests). */
export function createCondorCeSubmitter(options: CeOptionValues, ctx: SubmitContext, commands?: Partial<CondorCommands>): BatchSubmitter {
  const userLines = [...condorAttributeLines(options.condor_attributes), ...condorAttributeMapLines(options.condor_attributes_map)];
  const hasGridResource = userLines.some((l) => /^grid_resource\s*=/i.test(l));
  if (!hasGridResource) {
    ctx.logger.warn({ queue: ctx.queue.name }, 'CondorCE writes no grid_resource of its own: set batchsubmit.condorce.condor_attributes.grid_resource');
  }
  return createCondorSubmitter({ id: 'CondorCE', headLines: ceHeadLines('CondorCE', options, ctx) }, options, ctx, commands);
}

/** The CondorCE plugin. */
export const CONDOR_CE = defineBatchSubmitPlugin({
  family: 'batchsubmit',
  id: 'CondorCE',
  summary: 'submit pilots to a grid CE (grid universe, +Nonessential); grid_resource comes from condor_attributes',
  keyChain: condorKeyChain('condorce'),
  options: CE_OPTIONS,
  create: (options, ctx) => createCondorCeSubmitter(options, ctx),
});
