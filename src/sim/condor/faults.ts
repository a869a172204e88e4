/**
 * Fault injection for the HTCondor simulator (a simulator, NOT HTCondor). A fault configured for
 * a tool in config.json (`faults.<tool>`) changes how the next invocations behave — hang until
 * killed, exit with an error, print garbage, print output cut in the middle of an ad, or answer
 * slowly — so that the factory's handling of a broken batch system can be tested. A fault with
 * `times: N` applies to the next N invocations and then clears itself (the count is kept in
 * config.json, under a lock, so parallel invocations consume it exactly once each).
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readConfigFile, writeConfigFile, type CondorTool, type Fault, type SimConfigFile } from './config.ts';
import { withLock } from './lock.ts';
import type { ToolResult } from './tool-common.ts';

/** Stderr of an `exit` fault without its own `stderr` text: what the real tool prints when the schedd is unreachable. */
const DEFAULT_EXIT_STDERR: Readonly<Record<CondorTool, string>> = {
  condor_submit: '\nERROR: Failed to connect to local queue manager\nAUTHENTICATE:1003:Failed to authenticate with any method\nAUTHENTICATE:1004:Failed to authenticate using FS\n',
  condor_q: '\n-- Failed to fetch ads from: <127.0.0.1:9618?addrs=127.0.0.1-9618&noUDP&sock=schedd_sim> : local\nSECMAN:2007:Failed to end classad message.\n\n',
  condor_history: 'Error: Failed to connect to schedd local\nSECMAN:2007:Failed to end classad message.\n',
  condor_rm: "condor_rm: Can't find address for schedd local\n",
};

/** What a garbled tool prints: neither XML nor JSON nor anything a parser should accept. */
export const GARBLED_OUTPUT = '%%@!# apf HTCondor simulator: garbled output (injected fault) #!@%%\n\u0001\u0002}{ ][ <<>> not-a-classad = = =\n';

/**
 * Consumes one use of the fault configured for `tool`, if any, and returns it. With `times`, the
 * count is decremented (and the fault removed at zero) under the config lock.
 */
export async function takeFault(stateDir: string, tool: CondorTool, fault: Fault | undefined, signal?: AbortSignal): Promise<Fault | undefined> {
  if (fault === undefined) return undefined;
  if (fault.times === undefined) return fault;
  return withLock(
    join(stateDir, 'config.lock'),
    () => {
      // Re-read under the lock: a parallel invocation may have used the last one.
      const file = readConfigFile(stateDir);
      const current = file.faults?.[tool];
      if (current === undefined) return undefined;
      const faults = { ...file.faults };
      if (current.times === undefined) return current;
      if (current.times <= 1) delete faults[tool];
      else faults[tool] = { ...current, times: current.times - 1 };
      const next: SimConfigFile = { ...file, faults };
      if (Object.keys(faults).length === 0) delete next.faults;
      writeConfigFile(stateDir, next);
      return current;
    },
    signal === undefined ? {} : { signal },
  );
}

/** Sleeps until `signal` aborts (forever without one): the caller is expected to kill the process. */
export async function hang(signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => {
    // A pending promise alone does not keep Node alive; the interval does.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    if (signal?.aborted) {
      clearInterval(keepAlive);
      resolve();
      return;
    }
    signal?.addEventListener(
      'abort',
      () => {
        clearInterval(keepAlive);
        resolve();
      },
      { once: true },
    );
  });
}

/** Waits `ms`, or until `signal` aborts (then rejects). */
export async function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  await sleep(ms, undefined, signal === undefined ? {} : { signal });
}

/** The result an `exit` fault produces instead of running the tool. */
export function exitResult(tool: CondorTool, fault: Fault): ToolResult {
  const stderr = fault.stderr === undefined ? DEFAULT_EXIT_STDERR[tool] : fault.stderr.endsWith('\n') ? fault.stderr : `${fault.stderr}\n`;
  return { code: fault.exitCode ?? 1, stdout: '', stderr };
}

/**
 * The real output cut in the middle of its first ad (XML `<c>`, JSON `{`, a `** Proc` ad), or in
 * the middle of the text when it holds no ad.
 */
export function truncate(text: string): string {
  const spans: Array<[string, string]> = [
    ['<c>', '</c>'],
    ['\n{', '\n}'],
    ['** Proc', '\n\n'],
  ];
  for (const [open, close] of spans) {
    const a = text.indexOf(open);
    if (a < 0) continue;
    const b = text.indexOf(close, a + open.length);
    const end = b < 0 ? text.length : b;
    return text.slice(0, a + open.length + Math.max(1, Math.floor((end - a - open.length) / 2)));
  }
  return text.slice(0, Math.floor(text.length / 2));
}
