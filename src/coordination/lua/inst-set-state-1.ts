/**
 * Sets an instance's lifecycle state (drain/undrain/freeze from any process).
 *
 * KEYS[1] the instance hash. ARGV[1] the new state.
 * Returns 1 when the instance is registered (state written), 0 when it is not (nothing written:
 * HSET alone would create a half registration without owner).
 */
export const INST_SET_STATE = {
  name: 'apfInstSetState',
  numberOfKeys: 1,
  lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
return 1
`,
} as const;
