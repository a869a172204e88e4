/**
 * Records pilots a cycle submitted into a batch source (ContributionStore.recordSubmitted): one
 * script instead of MULTI/ZADD/PEXPIRE/EXEC, so a submitting cycle costs one command here.
 *
 * KEYS[1] the source's submitted-pilots zset. ARGV[1] the submission time (epoch ms, the score),
 * ARGV[2] the member `<queue>\t<cycleId>\t<n>`, ARGV[3] the zset's expiry in ms (renewed here).
 *
 * Returns 1 when the member is new, 0 when it was already recorded (a retried call).
 */
export const CONTRIB_SUBMITTED = {
  name: 'apfContribSubmitted',
  numberOfKeys: 1,
  lua: `
local added = redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return added
`,
} as const;
