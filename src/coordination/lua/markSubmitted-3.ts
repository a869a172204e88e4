/**
 * Lua for the fenced update of a slot record to phase `submitted`.
 *
 * KEYS[1] lease, KEYS[2] state hash, KEYS[3] the slot key.
 * ARGV[1] token, ARGV[2] lock value, ARGV[3] pilots submitted, ARGV[4] job ids as a JSON array,
 * ARGV[5] time (epoch ms).
 *
 * Returns `lease-lost` / `stale-token` (nothing written), `missing` when the slot has no record,
 * `not-ours` when the record belongs to another token, else `ok` after replacing the record (TTL
 * kept). The new JSON is assembled from the caller's strings rather than with cjson.encode, which
 * would print the 16-digit token with 14 significant digits.
 */
export const MARK_SUBMITTED_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[2] then
  return 'lease-lost'
end
local seen = tonumber(redis.call('HGET', KEYS[2], 'fence') or '0') or 0
if tonumber(ARGV[1]) < seen then
  return 'stale-token'
end
local current = redis.call('GET', KEYS[3])
if not current then
  return 'missing'
end
local ok, record = pcall(cjson.decode, current)
if not ok or type(record) ~= 'table' or tonumber(record.token) ~= tonumber(ARGV[1]) then
  return 'not-ours'
end
local owner = cjson.encode(tostring(record.owner))
local json = '{"token":' .. ARGV[1] .. ',"owner":' .. owner .. ',"phase":"submitted","at":' .. ARGV[5]
  .. ',"n":' .. ARGV[3] .. ',"jobIds":' .. ARGV[4] .. '}'
redis.call('SET', KEYS[3], json, 'KEEPTTL')
return 'ok'
`;
