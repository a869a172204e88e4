/**
 * Removes an instance's registration, but only while it is still the caller's: a process that
 * shuts down after another process took its id must not delete the newcomer's registration.
 *
 * KEYS[1] the instance hash, KEYS[2] the `instances` zset. ARGV[1] instance id, ARGV[2] owner.
 * Returns 1 when removed, 0 when the registration belongs to another process (or is gone).
 */
export const INST_DEREGISTER = {
  name: 'apfInstDeregister',
  numberOfKeys: 2,
  lua: `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`,
} as const;
