/**
 * Option tables of the condor submit levels (apf-behaviour §2.4, "Submit options"). Keys are the
 * suffixes after `batchsubmit.<level>.`; the loader overlays the plugin's key chain first, so a
 * suffix written under any level of the chain arrives here (most specific wins). Each level's
 * table extends its parent's, as APF's classes read their parent's keys.
 */
import { opt, type OptionSpec, type OptionValues } from '../../../config/options.ts';
import { splitArgs } from '../../../util/exec.ts';

/** `submitargs`: verbatim `condor_submit` arguments, split like a shell (quotes respected) at load time. */
function argsOption(doc: string): OptionSpec<readonly string[]> {
  return { kind: 'string', doc, default: [], required: false, parse: (text) => splitArgs(text) };
}

/** Keys read by every condor plugin (APF's `CondorBase`), plus apf's deadlines. */
export const BASE_OPTIONS = {
  submitargs: argsOption('extra condor_submit arguments, verbatim (e.g. "-remote schedd01.example.org"); -name/-pool/-remote are also passed to condor_rm'),
  environ: opt.optString('space-separated K=V pairs appended to the pilot environment'),
  condor_attributes: opt.optString('comma list of raw submit-file lines (\\, is a literal comma, \\\\ a literal backslash before a comma)'),
  condor_attributes_map: opt.map('condor_attributes.<attr> = <value>: one submit-file line each, after condor_attributes', 'condor_attributes'),
  peaceful: opt.bool('when asked to retire (n < 0): True = remove nothing', true),
  killorder: opt.enum('which pilots to remove when not peaceful, by submission time', ['newest', 'oldest'], 'newest'),
  timeout: opt.int('condor_submit deadline in seconds; the command is killed when it passes (apf addition)', 120, { min: 1 }),
  rmtimeout: opt.int('condor_rm deadline in seconds (apf addition)', 60, { min: 1 }),
} as const;

/** Typed values of {@link BASE_OPTIONS}. */
export type BaseOptionValues = OptionValues<typeof BASE_OPTIONS>;

/** Keys of APF's `CondorGrid` level (every grid flavour): the proxy. */
export const GRID_OPTIONS = {
  ...BASE_OPTIONS,
  proxy: opt.list('comma list of auth.conf profiles; the first one with a proxy file gives x509userproxy'),
  proxyfile: opt.optString('explicit proxy path, used when no profile of "proxy" gives one'),
} as const;

/** Typed values of {@link GRID_OPTIONS}. */
export type GridOptionValues = OptionValues<typeof GRID_OPTIONS>;

/** Keys of APF's `CondorCE` level: none of its own. */
export const CE_OPTIONS = GRID_OPTIONS;

/** Typed values of {@link CE_OPTIONS}. */
export type CeOptionValues = OptionValues<typeof CE_OPTIONS>;
