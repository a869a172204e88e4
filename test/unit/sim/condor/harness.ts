/**
 * Test harness for the HTCondor simulator: temporary state directories and in-process runs of the
 * simulated tools with captured output and an injected clock.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CondorTool, SimConfigFile } from '../../../../src/sim/condor/config.ts';
import { runCondorTool } from '../../../../src/sim/condor/run.ts';

/** What a tool run produced. */
export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link run}. */
export interface RunOptions {
  /** Simulated time, epoch seconds. */
  readonly now: number;
  readonly stdin?: string;
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly signal?: AbortSignal;
}

export const FIXTURES = new URL('../../../fixtures/htcondor/', import.meta.url).pathname;
export const CERTS = new URL('./certs/', import.meta.url).pathname;
export const ENV = { USER: 'apf', HOSTNAME: 'apf01.hec.lancs.ac.uk' } as const;

const dirs: string[] = [];

/** A fresh directory (removed by {@link cleanup}). */
export function tempDir(prefix = 'sim-condor-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** A fresh state directory with `config` as config.json. */
export function newState(config: SimConfigFile = {}): string {
  const d = tempDir();
  mkdirSync(join(d, 'state'));
  writeFileSync(join(d, 'state', 'config.json'), JSON.stringify(config));
  return join(d, 'state');
}

/** Removes every directory made here. */
export function cleanup(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Runs a simulated tool in-process. */
export async function run(stateDir: string, tool: CondorTool, args: readonly string[], o: RunOptions): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCondorTool(tool, args, {
    stateDir,
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    now: () => o.now * 1000,
    env: o.env ?? ENV,
    cwd: o.cwd ?? stateDir,
    lockTimeoutMs: 5000,
    ...(o.stdin === undefined ? {} : { stdin: o.stdin }),
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  });
  return { code, stdout, stderr };
}

/** Writes a submit file into `dir` and returns its path. */
export function submitFile(dir: string, text: string, name = 'submit.jdl'): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** A fixture file's text. */
export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/**
 * The sections of an annotated output fixture (`=== title (…exit N)` headers): the text of each,
 * exactly as printed (leading blank lines kept, the blank separator line before the next header
 * dropped).
 */
export function sections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let title: string | undefined;
  let body: string[] = [];
  const flush = (): void => {
    if (title === undefined) return;
    while (body.length > 0 && body[body.length - 1] === '') body.pop();
    out.set(title, body.length === 0 ? '' : `${body.join('\n')}\n`);
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('=== ')) {
      flush();
      title = line.slice(4);
      body = [];
    } else if (title !== undefined) body.push(line);
  }
  flush();
  return out;
}
