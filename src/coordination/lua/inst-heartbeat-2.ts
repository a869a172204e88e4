/**
 * Heartbeat of one instance process (InstanceRegistry.heartbeat).
 *
 * KEYS[1] the instance hash (`inst:<id>`), KEYS[2] the `instances` zset.
 * ARGV[1] instance id, ARGV[2] the caller's owner id, ARGV[3] now (epoch ms), then field/value
 * pairs to set along with `heartbeatAt` (lastCycleAt, configHash, state).
 *
 * Returns 1 when the registration is still the caller's, 0 when another process took the id (or
 * the registration was removed): the caller must not keep heartbeating under that id, and nothing
 * is written, so a replaced process can never resurrect its stale registration.
 */
export const INST_HEARTBEAT = {
  name: 'apfInstHeartbeat',
  numberOfKeys: 2,
  lua: `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[2] then return 0 end
local fields = {'heartbeatAt', ARGV[3]}
for i = 4, #ARGV, 2 do
  fields[#fields + 1] = ARGV[i]
  fields[#fields + 1] = ARGV[i + 1]
end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
`,
} as const;
