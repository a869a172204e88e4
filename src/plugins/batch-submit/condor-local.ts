/**
 * CondorLocal: pilots as vanilla jobs of a local (or `-remote`) HTCondor pool (APF's
 * `CondorLocal` ← `CondorBase`). Keys may be written under `batchsubmit.condorlocal.` or
 * `.condorbase.` (most specific wins).
 */
import { opt, type OptionValues } from '../../config/options.ts';
import { defineBatchSubmitPlugin, type BatchSubmitter, type SubmitContext } from '../define.ts';
import { condorKeyChain } from './condor/keys.ts';
import { BASE_OPTIONS } from './condor/options.ts';
import { createCondorSubmitter, type CondorCommands } from './condor/submitter.ts';

/** CondorLocal's keys: the base keys plus `proxy`, which APF 2.4.14 read but never applied. */
export const LOCAL_OPTIONS = {
  ...BASE_OPTIONS,
  proxy: opt.list('auth profiles; read but not applied (no x509userproxy line), as in APF 2.4.14'),
} as const;

/** Typed values of {@link LOCAL_OPTIONS}. */
export type LocalOptionValues = OptionValues<typeof LOCAL_OPTIONS>;

/** CondorLocal's own lines. */
export function localJdlLines(): string[] {
  return ['universe = vanilla', 'should_transfer_files = IF_NEEDED', '+TransferOutput = ""'];
}

/** Builds a CondorLocal submitter (`commands` for tests). */
export function createCondorLocalSubmitter(options: LocalOptionValues, ctx: SubmitContext, commands?: Partial<CondorCommands>): BatchSubmitter {
  if (options.proxy.length > 0) {
    ctx.logger.warn({ queue: ctx.queue.name, profiles: options.proxy }, 'CondorLocal does not apply "proxy" (as APF 2.4.14): no x509userproxy line is written');
  }
  return createCondorSubmitter({ id: 'CondorLocal', headLines: localJdlLines() }, options, ctx, commands);
}

/** The CondorLocal plugin. */
export const CONDOR_LOCAL = defineBatchSubmitPlugin({
  family: 'batchsubmit',
  id: 'CondorLocal',
  summary: 'submit pilots as vanilla jobs to the local or a -remote HTCondor schedd',
  keyChain: condorKeyChain('condorlocal'),
  options: LOCAL_OPTIONS,
  create: (options, ctx) => createCondorLocalSubmitter(options, ctx),
});
