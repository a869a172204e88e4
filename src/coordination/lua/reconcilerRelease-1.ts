/**
 * Lua releasing the reconciler lease only while it still holds the releasing owner's value
 * (compare-and-delete: never deletes a lease another instance took over).
 *
 * KEYS[1] the reconciler lease key. ARGV[1] the owner value.
 *
 * Returns 1 when deleted, 0 otherwise.
 */
export const RECONCILER_RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;
