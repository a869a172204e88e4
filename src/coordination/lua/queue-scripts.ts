/**
 * Registers apf's coordination Lua scripts on an ioredis client (`defineCommand`: EVALSHA with an
 * automatic EVAL on NOSCRIPT, so a restarted Redis needs no special handling) and calls them.
 * The script texts live in the `<name>-<numKeys>.ts` files next to this one.
 */
import type { Redis } from 'ioredis';
import { COMMIT_CYCLE_LUA } from './commitCycle-6.ts';
import { LEASE_FENCE_LUA } from './leaseFence-3.ts';
import { LEASE_FENCE_CLAIM_LUA } from './leaseFenceClaim-4.ts';

/** The scripts: command name → Lua text and number of keys. */
const SCRIPTS = {
  apfLeaseFence: { lua: LEASE_FENCE_LUA, numberOfKeys: 3 },
  apfLeaseFenceClaim: { lua: LEASE_FENCE_CLAIM_LUA, numberOfKeys: 4 },
  apfCommitCycle: { lua: COMMIT_CYCLE_LUA, numberOfKeys: 6 },
} as const;

/** Name of one coordination script. */
export type ScriptName = keyof typeof SCRIPTS;

type ScriptCommand = (...keysThenArgs: string[]) => Promise<unknown>;

/**
 * Runs script `name` with `keys` then `args` on `redis` (defining the scripts on first use).
 * Rejects with the ioredis error (callers wrap it).
 */
export function runScript(redis: Redis, name: ScriptName, keys: readonly string[], args: readonly string[]): Promise<unknown> {
  const commands = redis as unknown as Record<string, ScriptCommand | undefined>;
  if (typeof commands[name] !== 'function') {
    for (const [command, def] of Object.entries(SCRIPTS)) redis.defineCommand(command, def);
  }
  const command = commands[name] as ScriptCommand;
  return command.call(redis, ...keys, ...args);
}
