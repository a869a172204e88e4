/**
 * Publishes a batch source's snapshot (ContributionStore.publish).
 *
 * KEYS[1] the source's snapshot string, KEYS[2] the `sources` index zset, KEYS[3] the source's
 * submitted-pilots zset.
 * ARGV[1] source id, ARGV[2] the snapshot's `at` (epoch ms, integer), ARGV[3] the encoded record
 * body without `at`/`seq` and without braces, ARGV[4] prune bound: submitted entries scored below
 * it are removed.
 *
 * The stored value always starts with `{"at":<at>,"seq":<seq>,` (written only here), so the
 * script reads both with a string match instead of decoding a snapshot that may hold thousands of
 * queues. A snapshot is written only if its `at` is strictly newer than the stored one: a slow
 * poll that finishes after a newer one cannot overwrite it.
 *
 * Returns `{written (1|0), seq, storedAt}`: the new seq and at, or the stored ones when ignored.
 */
export const CONTRIB_PUBLISH = {
  name: 'apfContribPublish',
  numberOfKeys: 3,
  lua: `
local cur = redis.call('GET', KEYS[1])
local seq = 0
if cur then
  local a, s = string.match(cur, '^{"at":(%d+),"seq":(%d+),')
  if a then
    if tonumber(a) >= tonumber(ARGV[2]) then return {0, tonumber(s), tonumber(a)} end
    seq = tonumber(s)
  end
end
seq = seq + 1
redis.call('SET', KEYS[1], '{"at":' .. ARGV[2] .. ',"seq":' .. string.format('%d', seq) .. ',' .. ARGV[3] .. '}')
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[4])
return {1, seq, tonumber(ARGV[2])}
`,
} as const;
