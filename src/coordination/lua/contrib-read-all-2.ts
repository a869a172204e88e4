/**
 * Reads every published batch source and the pilots submitted into each after its snapshot, in
 * one round trip (ContributionStore.readAll).
 *
 * KEYS[1] the `sources` index zset, KEYS[2] the epoch string. ARGV[1]/ARGV[2] prefix and suffix of
 * a snapshot key, ARGV[3]/ARGV[4] prefix and suffix of a submitted zset key (derived from Keys, so
 * key names stay defined in one place), ARGV[5] an epoch to store when there is none (a new Redis,
 * or one that lost its data). Then, optionally, groups of four for the sources the caller already
 * holds decoded: ARGV[6 + 4k] source id, ARGV[7 + 4k] the head `{"at":<at>,"seq":<seq>,` of its
 * snapshot, ARGV[8 + 4k] a re-read bound `from` (epoch ms, above the snapshot's `at`) or `''`, ARGV[9 + 4k] how many of the
 * source's submitted entries the caller holds scored above the snapshot's `at` and below `from`.
 * The per-source keys are not declared in KEYS: apf runs on a single Redis (optionally with
 * Sentinel), never on Redis Cluster.
 *
 * Returns the epoch, then a flat array `source, snapshot, from, {member, score, …}` per source.
 * The snapshot is `''` when missing, `'='` when it still starts with the head the caller passed
 * for that source (it is unchanged: `at` and `seq` change with every publish, so the caller's
 * copy is current and the text is not sent again), else the text as stored (not decoded here: the
 * script stays cheap however many queues it holds).
 *
 * The submitted entries: those scored above the snapshot's `at` (all of them when there is no
 * snapshot, `from` = `''`), or — when the snapshot is unchanged, the caller passed a bound and
 * Redis holds exactly the count the caller holds between the snapshot's `at` and that bound —
 * only those scored at or above the bound (`from` echoes it): the caller keeps its entries below
 * the bound and replaces the rest. Entries are only ever added to a source's zset while its
 * snapshot stays the same (the prune runs at publish), so an equal count means the caller holds
 * every entry below the bound; an entry recorded late below it changes the count, and the whole
 * list is sent.
 */
export const CONTRIB_READ_ALL = {
  name: 'apfContribReadAll',
  numberOfKeys: 2,
  lua: `
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[5]
  redis.call('SET', KEYS[2], epoch)
end
local known = {}
for i = 6, #ARGV - 3, 4 do known[ARGV[i]] = { ARGV[i + 1], ARGV[i + 2], ARGV[i + 3] } end
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local n = #ids
local snaps = {}
local chunk = 500
for first = 1, n, chunk do
  local keys = {}
  for j = first, math.min(first + chunk - 1, n) do keys[#keys + 1] = ARGV[1] .. ids[j] .. ARGV[2] end
  local vals = redis.call('MGET', unpack(keys))
  for j = 1, #vals do snaps[first + j - 1] = vals[j] end
end
local out = { epoch }
for j = 1, n do
  local snap = snaps[j]
  local sub = ARGV[3] .. ids[j] .. ARGV[4]
  local since = '-inf'
  local from = ''
  if snap then
    local a = string.match(snap, '^{"at":(%d+),')
    if a then since = '(' .. a end
    local k = known[ids[j]]
    if k and string.sub(snap, 1, #k[1]) == k[1] then
      snap = '='
      local bound = tonumber(k[2])
      if a and bound and bound > tonumber(a) and redis.call('ZCOUNT', sub, since, '(' .. k[2]) == tonumber(k[3]) then from = k[2] end
    end
  else
    snap = ''
  end
  out[#out + 1] = ids[j]
  out[#out + 1] = snap
  out[#out + 1] = from
  if from ~= '' then
    out[#out + 1] = redis.call('ZRANGEBYSCORE', sub, from, '+inf', 'WITHSCORES')
  else
    out[#out + 1] = redis.call('ZRANGEBYSCORE', sub, since, '+inf', 'WITHSCORES')
  end
end
return out
`,
} as const;
