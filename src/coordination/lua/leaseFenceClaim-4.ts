/**
 * Lua run right after a queue lease was acquired for a cycle: hands out the fencing token
 * (leaseFence-3.ts) and, in the same call, claims the cycle's scheduler slot, the idempotency
 * record of one (queue, slot). One round trip instead of two: the claim needs the token anyway.
 *
 * KEYS[1] lease, KEYS[2] fence counter, KEYS[3] state hash, KEYS[4] the slot key.
 * ARGV[1] the lock value just acquired, ARGV[2] the time seed, ARGV[3] the claiming owner as a
 * JSON string, ARGV[4] the claim time (epoch ms), ARGV[5] the slot record's TTL in seconds.
 *
 * Returns -1 when the lease key no longer holds our value (nothing written), else
 * `{token, lastAt, claim}` and, when `claim` is `taken`, the existing record JSON as a fourth
 * element. `claim` is `paused` when the queue is paused (the state hash's `paused` is `1`; no slot
 * record written), `claimed` when the record `{"token","owner","phase":"planned","at"}` was
 * created (SET NX EX), `taken` when the slot already has one. The record is assembled from
 * strings so the 16-digit token keeps every digit (cjson.encode would print 14).
 */
import { fenceThen } from './leaseFence-3.ts';

export const LEASE_FENCE_CLAIM_LUA = fenceThen(`
if redis.call('HGET', KEYS[3], 'paused') == '1' then
  return {text, lastAt, 'paused'}
end
local record = '{"token":' .. text .. ',"owner":' .. ARGV[3] .. ',"phase":"planned","at":' .. ARGV[4] .. '}'
if redis.call('SET', KEYS[4], record, 'NX', 'EX', ARGV[5]) then
  return {text, lastAt, 'claimed'}
end
return {text, lastAt, 'taken', redis.call('GET', KEYS[4])}`);
