/**
 * Lua renewing the reconciler lease only while it still holds the renewing owner's value
 * (compare-and-set: a holder whose lease expired and was taken over cannot extend the new one).
 *
 * KEYS[1] the reconciler lease key. ARGV[1] the owner value, ARGV[2] the new TTL in ms.
 *
 * Returns 1 when renewed, 0 when the key is missing or holds another value.
 */
export const RECONCILER_RENEW_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;
