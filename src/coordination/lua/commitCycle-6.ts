/**
 * Lua for the fenced commit of a finished cycle (the only way `last` and the history are written).
 *
 * KEYS[1] lease, KEYS[2] state hash, KEYS[3] history list, KEYS[4] stats hash, KEYS[5] the slot
 * key of the cycle's scheduler slot, KEYS[6] the submitted-pilots zset of the batch source the
 * cycle submitted into.
 * ARGV[1] token, ARGV[2] lock value, ARGV[3] the CycleRecord JSON, ARGV[4] history cap,
 * ARGV[5] pilots submitted by the cycle, ARGV[6] the record's end time (epoch ms), ARGV[7] `1` to
 * also release the lease (delete its key, which holds the caller's value: checked first),
 * ARGV[8] the submitted job ids as a JSON array, ARGV[9] the submitted-pilots member
 * (`<queue>\t<cycleId>\t<n>`, contributions-codec.ts) or `''` for none, ARGV[10] its score (the
 * submission time, epoch ms), ARGV[11] the zset's expiry (ms).
 *
 * First, whatever the fence says, a given member is added to KEYS[6] and the zset's expiry
 * renewed (the only writer of those entries): the pilots are in the batch system even
 * when this process lost the queue, and every instance must count them until the next poll.
 * Then it returns `lease-lost` when the lease key does not hold the caller's value (expired,
 * released or taken by another owner), `stale-token` when a higher token has been seen, else `ok`
 * after setting `fence`, `last` and `lastAt`, pushing the record (history trimmed to the cap) and
 * counting the cycle and its pilots; when the cycle submitted pilots, the slot record claimed under
 * this token becomes `{"token","owner","phase":"submitted","at","n","jobIds"}` (TTL kept; a
 * missing record or one of another token is left alone); with ARGV[7] the lease key is deleted
 * (the commit is the cycle's last write, so the release costs no round trip of its own). Nothing
 * but the submitted-pilots member is written when it rejects. The slot JSON is assembled from the
 * caller's strings rather than with cjson.encode, which would print the 16-digit token with 14
 * significant digits.
 */
export const COMMIT_CYCLE_LUA = `
if ARGV[9] ~= '' then
  redis.call('ZADD', KEYS[6], ARGV[10], ARGV[9])
  redis.call('PEXPIRE', KEYS[6], ARGV[11])
end
if redis.call('GET', KEYS[1]) ~= ARGV[2] then
  return 'lease-lost'
end
local seen = tonumber(redis.call('HGET', KEYS[2], 'fence') or '0') or 0
if tonumber(ARGV[1]) < seen then
  return 'stale-token'
end
redis.call('HSET', KEYS[2], 'fence', ARGV[1], 'last', ARGV[3], 'lastAt', ARGV[6])
redis.call('LPUSH', KEYS[3], ARGV[3])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[4]) - 1)
redis.call('HINCRBY', KEYS[4], 'cycles', 1)
if tonumber(ARGV[5]) > 0 then
  redis.call('HINCRBY', KEYS[4], 'submitted', ARGV[5])
  local current = redis.call('GET', KEYS[5])
  if current then
    local ok, slot = pcall(cjson.decode, current)
    if ok and type(slot) == 'table' and tonumber(slot.token) == tonumber(ARGV[1]) then
      local owner = cjson.encode(tostring(slot.owner))
      redis.call('SET', KEYS[5], '{"token":' .. ARGV[1] .. ',"owner":' .. owner .. ',"phase":"submitted","at":' .. ARGV[6]
        .. ',"n":' .. ARGV[5] .. ',"jobIds":' .. ARGV[8] .. '}', 'KEEPTTL')
    end
  end
end
if ARGV[7] == '1' then
  redis.call('DEL', KEYS[1])
end
return 'ok'
`;
