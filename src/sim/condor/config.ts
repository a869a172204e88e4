/**
 * `DIR/config.json` of the HTCondor simulator (a simulator, NOT HTCondor): the job timeline, the
 * slot limit, the proxy check and the injected faults. Every key is optional; the file is
 * validated with zod and an invalid file is refused with the offending field named. Written by
 * `apf sim condor` (and by hand); read by every simulated tool.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ApfError } from '../../errors.ts';
import { writeFileAtomic } from './lock.ts';

/** The simulated tools. */
export const CONDOR_TOOLS = ['condor_submit', 'condor_q', 'condor_history', 'condor_rm'] as const;

/** One simulated tool. */
export type CondorTool = (typeof CONDOR_TOOLS)[number];

/** How a fault breaks a tool. */
export const FAULT_MODES = ['hang', 'exit', 'garbled', 'truncated', 'slow'] as const;

const fraction = z.number().min(0).max(1);
const seconds = z.number().min(0);

const faultSchema = z
  .object({
    /**
     * hang: sleep until killed; exit: print `stderr` and exit `exitCode` without acting;
     * garbled: act, then print junk with exit 0; truncated: act, then print the real output cut
     * in the middle of an ad with exit 0; slow: wait `delayMs`, then behave normally.
     */
    mode: z.enum(FAULT_MODES),
    /** Exit status for `exit`. @defaultValue 1 */
    exitCode: z.number().int().min(0).max(255).optional(),
    /** Text printed on stderr for `exit` (a default message otherwise). */
    stderr: z.string().optional(),
    /** Delay for `slow`. @defaultValue 5000 */
    delayMs: z.number().int().min(0).optional(),
    /** Apply to the next N invocations, then clear; absent = until removed. */
    times: z.number().int().min(1).optional(),
  })
  .strict();

/** One injected fault. */
export type Fault = z.infer<typeof faultSchema>;

const configSchema = z
  .object({
    /** Seconds a job stays idle before it starts. @defaultValue 30 */
    idleSeconds: seconds.optional(),
    /** Seconds a job runs before it completes. @defaultValue 300 */
    runSeconds: seconds.optional(),
    /** Fraction of jobs that complete with a non-zero ExitCode. @defaultValue 0 */
    failFraction: fraction.optional(),
    /** Fraction of jobs put on hold instead of starting. @defaultValue 0 */
    holdFraction: fraction.optional(),
    /** Fraction of jobs that finish after `shortSeconds` (Throttle's black-hole signal). @defaultValue 0 */
    shortFraction: fraction.optional(),
    /** Run time of short jobs. @defaultValue 5 */
    shortSeconds: seconds.optional(),
    /** Slot limit: jobs beyond it stay idle until a slot frees. Absent = unlimited. */
    maxRunning: z.number().int().min(0).optional(),
    /** Seconds a removed job stays in the queue (JobStatus 3) before it leaves to history. @defaultValue 0 */
    removeSeconds: seconds.optional(),
    /** Known schedd names (`-name`); absent = any name is accepted (and created). */
    schedds: z.array(z.string().min(1)).optional(),
    /** First cluster id of a new schedd. @defaultValue 1 */
    firstClusterId: z.number().int().min(1).optional(),
    /** `exists`: a readable placeholder proxy is fine; `strict`: it must be a PEM certificate. @defaultValue exists */
    proxyCheck: z.enum(['exists', 'strict']).optional(),
    /** HTCondor's CRED_MIN_TIME_LEFT (seconds). @defaultValue 120 */
    credMinTimeLeft: z.number().int().min(0).optional(),
    /** Added to the wall clock: lets tests fast-forward the simulated batch system. @defaultValue 0 */
    clockOffsetSeconds: z.number().optional(),
    /** Injected faults per tool. */
    faults: z.object(Object.fromEntries(CONDOR_TOOLS.map((t) => [t, faultSchema.optional()])) as Record<CondorTool, z.ZodOptional<typeof faultSchema>>).strict().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const sum = (c.failFraction ?? 0) + (c.holdFraction ?? 0) + (c.shortFraction ?? 0);
    if (sum > 1 + 1e-9) {
      ctx.addIssue({ code: 'custom', path: ['failFraction'], message: `failFraction + holdFraction + shortFraction is ${sum}, more than 1` });
    }
  });

/** config.json as written (all keys optional). */
export type SimConfigFile = z.infer<typeof configSchema>;

/** config.json with defaults applied. */
export interface SimConfig {
  readonly idleSeconds: number;
  readonly runSeconds: number;
  readonly failFraction: number;
  readonly holdFraction: number;
  readonly shortFraction: number;
  readonly shortSeconds: number;
  readonly maxRunning: number | undefined;
  readonly removeSeconds: number;
  readonly schedds: readonly string[] | undefined;
  readonly firstClusterId: number;
  readonly proxyCheck: 'exists' | 'strict';
  readonly credMinTimeLeft: number;
  readonly clockOffsetSeconds: number;
  readonly faults: Readonly<Partial<Record<CondorTool, Fault>>>;
}

/** Path of the config file in a state directory. */
export function configPath(stateDir: string): string {
  return join(stateDir, 'config.json');
}

/**
 * Validates a parsed config.json. Throws `APF_ERR_SIM` listing every bad field as
 * `config.json: <path>: <problem>`.
 */
export function validateConfig(raw: unknown, where = 'config.json'): SimConfigFile {
  const r = configSchema.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const path = [...i.path.map(String), ...('keys' in i && Array.isArray(i.keys) ? [i.keys.join(', ')] : [])].join('.');
    return `${where}: ${path === '' ? '(top level)' : path}: ${i.message}`;
  });
  throw new ApfError('APF_ERR_SIM', lines.join('\n'), { details: { file: where, issues: r.error.issues.length } });
}

/** Reads config.json (absent = all defaults). Throws `APF_ERR_SIM` for unreadable or invalid files. */
export function readConfigFile(stateDir: string): SimConfigFile {
  const path = configPath(stateDir);
  if (!existsSync(path)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ApfError('APF_ERR_SIM', `${path}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return validateConfig(raw, path);
}

/** Writes config.json atomically (validated first). */
export function writeConfigFile(stateDir: string, config: SimConfigFile): void {
  validateConfig(config);
  writeFileAtomic(configPath(stateDir), `${JSON.stringify(config, null, 2)}\n`);
}

/** Applies defaults. */
export function withDefaults(c: SimConfigFile): SimConfig {
  return {
    idleSeconds: c.idleSeconds ?? 30,
    runSeconds: c.runSeconds ?? 300,
    failFraction: c.failFraction ?? 0,
    holdFraction: c.holdFraction ?? 0,
    shortFraction: c.shortFraction ?? 0,
    shortSeconds: c.shortSeconds ?? 5,
    maxRunning: c.maxRunning,
    removeSeconds: c.removeSeconds ?? 0,
    schedds: c.schedds,
    firstClusterId: c.firstClusterId ?? 1,
    proxyCheck: c.proxyCheck ?? 'exists',
    credMinTimeLeft: c.credMinTimeLeft ?? 120,
    clockOffsetSeconds: c.clockOffsetSeconds ?? 0,
    faults: c.faults ?? {},
  };
}
