/**
 * Lua for the fenced commit of a finished cycle (the only way `last` and the history are written).
 *
 * KEYS[1] lease, KEYS[2] state hash, KEYS[3] history list, KEYS[4] stats hash.
 * ARGV[1] token, ARGV[2] lock value, ARGV[3] the CycleRecord JSON, ARGV[4] history cap,
 * ARGV[5] pilots submitted by the cycle, ARGV[6] the record's end time (epoch ms), ARGV[7] `1` to
 * also release the lease (delete its key, which holds the caller's value: checked first).
 *
 * Returns `lease-lost` when the lease key does not hold the caller's value (expired, released or
 * taken by another owner), `stale-token` when a higher token has been seen, else `ok` after
 * setting `fence`, `last` and `lastAt`, pushing the record (history trimmed to the cap) and
 * counting the cycle and its pilots, and with ARGV[7] deleting the lease key (the commit is the
 * cycle's last write, so the release costs no round trip of its own). Nothing is written when it
 * rejects.
 */
export const COMMIT_CYCLE_LUA = `
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
end
if ARGV[7] == '1' then
  redis.call('DEL', KEYS[1])
end
return 'ok'
`;
