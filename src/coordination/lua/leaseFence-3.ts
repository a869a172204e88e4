/**
 * Lua run right after a queue lease was acquired: hands out the lease's fencing token.
 *
 * KEYS[1] the queue's lease key, KEYS[2] its fence counter, KEYS[3] its state hash.
 * ARGV[1] the lock value just acquired, ARGV[2] the time seed (`now_ms × 1000`, an integer string).
 *
 * Returns -1 when the lease key no longer holds our value (it expired in between), else
 * `{token, lastAt}` as integer strings: the token is `max(last + 1, seed)` where `last` is the
 * higher of the counter and the state's `fence` field; `lastAt` is the end time (epoch ms) of the
 * queue's last committed cycle (the state's `lastAt` field, '0' when none), so the new holder knows
 * whether the previous one finished only a moment ago. The seed makes tokens survive a Redis that
 * lost its data: a wiped counter restarts at the clock, above every token handed out before (see
 * lease.ts for the assumptions). Numbers are formatted with `%.0f` because Lua would print a
 * 16-digit double in exponent form.
 */
export const LEASE_FENCE_LUA = fenceThen(`return {text, lastAt}`);

/**
 * The token steps above followed by `tail`, which sees the new token as the string `text` and the
 * last commit time as `lastAt` (leaseFenceClaim-4.ts adds the slot claim).
 */
export function fenceThen(tail: string): string {
  return `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -1
end
local last = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
local seen = tonumber(redis.call('HGET', KEYS[3], 'fence') or '0') or 0
if seen > last then last = seen end
local token = last + 1
local seed = tonumber(ARGV[2])
if seed > token then token = seed end
local text = string.format('%.0f', token)
redis.call('SET', KEYS[2], text)
redis.call('HSET', KEYS[3], 'fence', text)
local lastAt = redis.call('HGET', KEYS[3], 'lastAt') or '0'
${tail}
`;
}
