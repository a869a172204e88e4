/**
 * CondorOSGCE: pilots to an HTCondor-CE through HTCondor's `condor` grid type (APF's
 * `CondorOSGCE` ← `CondorCE` ← `CondorGrid` ← `CondorBase`). Keys may be written under
 * `batchsubmit.condorosgce.`, `.condorce.`, `.condorgrid.` or `.condorbase.` (most specific wins).
 */
import { opt, type OptionValues } from '../../config/options.ts';
import { defineBatchSubmitPlugin, type BatchSubmitter, type SubmitContext } from '../define.ts';
import { oneLine } from './condor/attributes.ts';
import { condorKeyChain } from './condor/keys.ts';
import { ceHeadLines } from './condor/levels.ts';
import { CE_OPTIONS } from './condor/options.ts';
import { createCondorSubmitter, type CondorCommands } from './condor/submitter.ts';

/** CondorOSGCE's keys: the CE/grid/base keys plus the CE host and port. */
export const OSGCE_OPTIONS = {
  ...CE_OPTIONS,
  gridresource: opt.requiredString('HTCondor-CE host name (used as schedd and collector: "condor <ce> <ce>:<port>")'),
  port: opt.int('HTCondor-CE port', 9619, { min: 1, max: 65535 }),
} as const;

/** Typed values of {@link OSGCE_OPTIONS}. */
export type OsgceOptionValues = OptionValues<typeof OSGCE_OPTIONS>;

/** CondorOSGCE's own lines: `grid_resource = condor <ce> <ce>:<port>` and `+TransferOutput = ""`. */
export function osgceJdlLines(gridresource: string, port: number): string[] {
  const ce = oneLine(gridresource).trim();
  return [`grid_resource = condor ${ce} ${ce}:${port}`, '+TransferOutput = ""'];
}

/** The lines above the base level: OSGCE's own, then the CE and grid levels (proxy resolved here). */
export function osgceHeadLines(options: OsgceOptionValues, ctx: Pick<SubmitContext, 'config' | 'queue' | 'logger'>): string[] {
  return [...osgceJdlLines(options.gridresource, options.port), ...ceHeadLines('CondorOSGCE', options, ctx)];
}

/** Builds a CondorOSGCE submitter (`commands` for tests). */
export function createCondorOsgceSubmitter(options: OsgceOptionValues, ctx: SubmitContext, commands?: Partial<CondorCommands>): BatchSubmitter {
  return createCondorSubmitter({ id: 'CondorOSGCE', headLines: osgceHeadLines(options, ctx) }, options, ctx, commands);
}

/** The CondorOSGCE plugin. */
export const CONDOR_OSGCE = defineBatchSubmitPlugin({
  family: 'batchsubmit',
  id: 'CondorOSGCE',
  summary: 'submit pilots to an HTCondor-CE (grid universe, grid_resource = condor <ce> <ce>:<port>)',
  keyChain: condorKeyChain('condorosgce'),
  options: OSGCE_OPTIONS,
  create: (options, ctx) => createCondorOsgceSubmitter(options, ctx),
});
