/**
 * Reads every published batch source and the pilots submitted into each after its snapshot, in
 * one round trip (ContributionStore.readAll).
 *
 * KEYS[1] the `sources` index zset, KEYS[2] the epoch string. ARGV[1]/ARGV[2] prefix and suffix of
 * a snapshot key, ARGV[3]/ARGV[4] prefix and suffix of a submitted zset key (derived from Keys, so
 * key names stay defined in one place), ARGV[5] an epoch to store when there is none (a new Redis,
 * or one that lost its data). Then, optionally, pairs ARGV[6 + 2k] source id, ARGV[7 + 2k] the head
 * `{"at":<at>,"seq":<seq>,` of the snapshot the caller already holds decoded. The per-source keys
 * are not declared in KEYS: apf runs on a single Redis (optionally with Sentinel), never on Redis
 * Cluster.
 *
 * Returns the epoch, then a flat array `source, snapshot, {member, score, …}` per source. The snapshot is `''`
 * when missing, `'='` when it still starts with the head the caller passed for that source (it is
 * unchanged: `at` and `seq` change with every publish, so the caller's copy is current and the
 * text is not sent again), else the text as stored (not decoded here: the script stays cheap
 * however many queues it holds). Only the submitted entries newer than the snapshot's `at` are
 * returned.
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
for i = 6, #ARGV - 1, 2 do known[ARGV[i]] = ARGV[i + 1] end
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
  local since = '-inf'
  if snap then
    local a = string.match(snap, '^{"at":(%d+),')
    if a then since = '(' .. a end
    local head = known[ids[j]]
    if head and string.sub(snap, 1, #head) == head then snap = '=' end
  else
    snap = ''
  end
  out[#out + 1] = ids[j]
  out[#out + 1] = snap
  out[#out + 1] = redis.call('ZRANGEBYSCORE', ARGV[3] .. ids[j] .. ARGV[4], since, '+inf', 'WITHSCORES')
end
return out
`,
} as const;
