/**
 * Registers apf's coordination Lua scripts on an ioredis client (`defineCommand`: EVALSHA with an
 * automatic EVAL on NOSCRIPT, so a restarted Redis needs no special handling) and calls them.
 * The script texts live in the `<name>-<numKeys>.ts` files next to this one.
 */
import type { Redis } from 'ioredis';
import { CLAIM_SLOT_LUA } from './claimSlot-3.ts';
import { COMMIT_CYCLE_LUA } from './commitCycle-4.ts';
import { LEASE_FENCE_LUA } from './leaseFence-3.ts';
import { MARK_SUBMITTED_LUA } from './markSubmitted-3.ts';

/** The scripts: command name → Lua text and number of keys. */
const SCRIPTS = {
  apfLeaseFence: { lua: LEASE_FENCE_LUA, numberOfKeys: 3 },
  apfCommitCycle: { lua: COMMIT_CYCLE_LUA, numberOfKeys: 4 },
  apfClaimSlot: { lua: CLAIM_SLOT_LUA, numberOfKeys: 3 },
  apfMarkSubmitted: { lua: MARK_SUBMITTED_LUA, numberOfKeys: 3 },
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
