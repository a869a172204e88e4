/** Writes submitted-pilot entries the way the product does, for tests of their readers. */
import type { Redis } from 'ioredis';
import { submittedMember, SUBMITTED_TTL_MS } from '../../src/coordination/contributions-codec.ts';
import type { Keys } from '../../src/coordination/keys.ts';

/**
 * Records `n` pilots of `queue`'s cycle `cycleId` as submitted into `source` at `at`, as a cycle's
 * fenced commit does (QueueState.commit `pilots`: the same member, score and expiry), without a
 * lease or a cycle record.
 */
export async function addSubmitted(redis: Redis, keys: Keys, source: string, queue: string, cycleId: string, n: number, at: number): Promise<void> {
  const key = keys.sourceSubmitted(source);
  const replies = await redis.multi().zadd(key, at, submittedMember(source, queue, cycleId, n, at)).pexpire(key, SUBMITTED_TTL_MS).exec();
  for (const [err] of replies ?? []) if (err !== null) throw err;
}
