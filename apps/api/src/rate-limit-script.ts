import { luaScript } from "@imagegen/shared";

/**
 * Every limit of a request checked and taken in one atomic step, so that
 * many API replicas share one budget and a request refused by one limit
 * spends nothing from the others (all or nothing).
 *
 * KEYS: the fixed-window counters, then the in-flight sets, then optionally
 *       the job's gate (see below).
 * ARGV: now (ms), member (request id), lease (ms), number of counters,
 *       number of in-flight sets, gate lifetime (ms, 0 when there is no
 *       gate), then (limit, cost, window ms) per counter, then limit per
 *       in-flight set.
 * Counters are fixed windows that start at their first use and expire after
 * `window` ms. In-flight sets hold request ids scored by the time their lease
 * ends, so a slot held by a crashed API replica lapses by itself.
 * The gate is the queue's deduplication key of the job this request would
 * become: set when the request is refused, so that the job's add, sent right
 * behind this script on the same connection, adds nothing.
 * Returns {refused (1-based index of the first limit refusing, 0 when
 * admitted), then used and ms-to-reset for each limit}.
 */
export const ADMIT_SCRIPT = luaScript(`
local now = tonumber(ARGV[1])
local member = ARGV[2]
local lease = tonumber(ARGV[3])
local counters = tonumber(ARGV[4])
local limits = counters + tonumber(ARGV[5])
local gateMs = tonumber(ARGV[6])
local refused = 0
local state = {}
local p = 7
for i = 1, counters do
  local limit, cost, window = tonumber(ARGV[p]), tonumber(ARGV[p + 1]), tonumber(ARGV[p + 2])
  p = p + 3
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl < 0 then used = 0; ttl = window end
  if refused == 0 and used + cost > limit then refused = i end
  state[i] = {used, ttl, cost, window}
end
for j = counters + 1, limits do
  local limit = tonumber(ARGV[p])
  p = p + 1
  redis.call('ZREMRANGEBYSCORE', KEYS[j], '-inf', now)
  local used = redis.call('ZCARD', KEYS[j])
  if refused == 0 and used + 1 > limit then refused = j end
  state[j] = {used, lease}
end
if refused == 0 then
  for i = 1, counters do
    local s = state[i]
    if s[1] == 0 then
      redis.call('SET', KEYS[i], s[3], 'PX', s[4])
    else
      redis.call('INCRBY', KEYS[i], s[3])
    end
    s[1] = s[1] + s[3]
  end
  for j = counters + 1, limits do
    redis.call('ZADD', KEYS[j], now + lease, member)
    if redis.call('PTTL', KEYS[j]) < lease then redis.call('PEXPIRE', KEYS[j], lease) end
    state[j][1] = state[j][1] + 1
  end
end
if refused > 0 and gateMs > 0 then
  redis.call('SET', KEYS[limits + 1], 'refused', 'PX', gateMs)
end
local out = {refused}
for k = 1, limits do
  out[#out + 1] = state[k][1]
  out[#out + 1] = state[k][2]
end
return out
`);
