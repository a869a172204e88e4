/**
 * Lua for the fenced claim of one (queue, slot): the idempotency record of a scheduler slot.
 *
 * KEYS[1] lease, KEYS[2] state hash, KEYS[3] the slot key.
 * ARGV[1] token, ARGV[2] lock value, ARGV[3] the planned SlotRecord JSON, ARGV[4] TTL in seconds.
 *
 * Returns `{'lease-lost'}` or `{'stale-token'}` (nothing written), `{'paused'}` when the queue
 * is paused (the state hash's `paused` is `1`; nothing written: checking here spares the cycle a
 * round trip of its own), `{'claimed'}` when the record was created (SET NX EX), or
 * `{'taken', <existing record JSON>}` when the slot already has one.
 */
export const CLAIM_SLOT_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[2] then
  return {'lease-lost'}
end
local seen = tonumber(redis.call('HGET', KEYS[2], 'fence') or '0') or 0
if tonumber(ARGV[1]) < seen then
  return {'stale-token'}
end
if redis.call('HGET', KEYS[2], 'paused') == '1' then
  return {'paused'}
end
if redis.call('SET', KEYS[3], ARGV[3], 'NX', 'EX', ARGV[4]) then
  return {'claimed'}
end
return {'taken', redis.call('GET', KEYS[3])}
`;
