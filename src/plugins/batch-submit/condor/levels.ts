/**
 * The intermediate levels of APF's condor class tree that need the queue's context: `CondorGrid`
 * (the proxy) and `CondorCE` (above it). A flavour's head lines are its own lines followed by one of
 * these: CE flavours (OSGCE, CREAM, Nordugrid, GRAM/GT2/GT5) use {@link ceHeadLines}, LSF/PBS use
 * {@link gridHeadLines}, Local/EC2/SSH use neither.
 */
import type { SubmitContext } from '../../define.ts';
import { ceJdlLines, gridJdlLines } from './jdl.ts';
import type { GridOptionValues } from './options.ts';
import { resolveProxy } from './proxy.ts';

/**
 * `universe = grid` and `x509userproxy` (APF's `CondorGrid`). The proxy is resolved once, here;
 * when nothing gives one the line is left out and a warning logged (HTCondor then refuses grid jobs
 * that need a proxy, which shows as `APF_ERR_SUBMIT_FAILED` with its error text).
 */
export function gridHeadLines(id: string, options: Pick<GridOptionValues, 'proxy' | 'proxyfile'>, ctx: Pick<SubmitContext, 'config' | 'queue' | 'logger'>): string[] {
  const proxy = resolveProxy(options.proxy, options.proxyfile, ctx.config.auth);
  const queue = ctx.queue.name;
  if (proxy.path === undefined) {
    ctx.logger.warn(
      { queue, profiles: options.proxy, skipped: proxy.skipped },
      `${id}: no X.509 proxy (neither a "proxy" profile with a proxyfile nor "proxyfile"): x509userproxy left out`,
    );
  } else if (proxy.skipped.length > 0) {
    ctx.logger.warn({ queue, skipped: proxy.skipped, profile: proxy.profile, path: proxy.path }, `${id}: some proxy profiles were skipped`);
  }
  return gridJdlLines(proxy.path);
}

/** `+Nonessential = True` then the grid level (APF's `CondorCE`). */
export function ceHeadLines(id: string, options: Pick<GridOptionValues, 'proxy' | 'proxyfile'>, ctx: Pick<SubmitContext, 'config' | 'queue' | 'logger'>): string[] {
  return [...ceJdlLines(), ...gridHeadLines(id, options, ctx)];
}
