import { luaScript } from "../lua-script.js";

/**
 * The Lua side of fair sharing (see fair-share.ts for the model). Every key
 * lives in the generate-image queue's hash slot, so one script may read
 * BullMQ's lists and write the lanes together on a Redis Cluster too. Lane
 * keys are built inside the scripts from ARGV (per workspace, like BullMQ's
 * job keys); they share the slot through the same `{generate-image}` tag.
 *
 * A lane entry's score is `hold time (Redis ms) * 1000 + sequence % 1000`
 * for jobs held one by one (FIFO order within a lane, and the hold time for
 * telling a job still being added from one that is gone), and the line index
 * for a batch's lines (held after they were added: never "still being added").
 */

/** Redis's clock in ms, so every process agrees on ages and expiries. */
const NOW = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;

/**
 * How many jobs may be out of the lanes and not finished: the GPU slots the
 * live workers can fill plus a few per worker (one per 8 of its jobs, at least
 * one), so a slot freed while a dispatcher refills is not left idle; more
 * would make a newly arrived turn wait behind more released jobs. Unbounded
 * while no worker reports (none running, or none of this version yet). Workers report `{own}:{ceiling}`: the jobs they can
 * run at once, and the global cap they share (a large number when none).
 * `released` counts what is out already: BullMQ's wait list, prioritized
 * set, active list, and jobs a dispatcher has picked but not yet promoted.
 * Expects KEYS: 1 wait, 2 prioritized, 3 active, 4 starting, 5 workers, 6 worker capacity.
 */
const CAPACITY = `
local dead = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now)
for _, worker in ipairs(dead) do redis.call('HDEL', KEYS[6], worker) end
if #dead > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now) end
local live = redis.call('ZRANGE', KEYS[5], 0, -1)
local own, ceiling, spare = 0, nil, 0
for _, worker in ipairs(live) do
  local report = redis.call('HGET', KEYS[6], worker)
  if report then
    local o, c = string.match(report, '^(%d+):(%d+)$')
    if o then
      own = own + tonumber(o)
      if ceiling == nil or tonumber(c) < ceiling then ceiling = tonumber(c) end
      spare = spare + math.max(1, math.ceil(tonumber(o) / 8))
    end
  end
end
local limit = own
if ceiling ~= nil and ceiling < limit then limit = ceiling end
-- No worker reports (none running, or none of this version yet, as in a rolling
-- upgrade): nothing to share out, so nothing is held.
if #live == 0 then limit = 1e15 else limit = limit + spare end
local released = redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2]) + redis.call('LLEN', KEYS[3]) + redis.call('ZCARD', KEYS[4])
`;

/** The first job of a workspace's lanes, in class order (sync, async, batch). */
const HEAD = `
local KINDS = {'sync', 'async', 'batch'}
local function head(laneBase, workspace)
  for _, kind in ipairs(KINDS) do
    local lane = laneBase .. workspace .. ':' .. kind
    local first = redis.call('ZRANGE', lane, 0, 0, 'WITHSCORES')
    if first[1] then return lane, first[1], tonumber(first[2]) end
  end
  return nil
end
local function weightOf(weightsKey, workspace)
  local weight = tonumber(redis.call('HGET', weightsKey, workspace))
  if weight == nil or weight <= 0 then return 1 end
  return weight
end
`;

/**
 * Puts a workspace in the active set, at the current virtual time, unless it
 * is there already. When the set was empty, says so on \`channel\`: workers
 * skip dispatching after their jobs while nothing is held, and this is how
 * they learn that something is.
 */
const JOIN = `
local function join(activeKey, vtimeKey, workspace, channel)
  if redis.call('ZSCORE', activeKey, workspace) == false then
    if redis.call('ZCARD', activeKey) == 0 then redis.call('PUBLISH', channel, '1') end
    redis.call('ZADD', activeKey, tonumber(redis.call('GET', vtimeKey)) or 0, workspace)
  end
end
`;

/**
 * ADMIT: decides how one new job enters.
 * KEYS: 1-6 as CAPACITY, 7 active workspaces, 8 vtime, 9 seq
 * ARGV: 1 lane base, 2 workspace, 3 kind, 4 job id, 5 held channel
 * Returns {verdict, spare}. Verdict 0: nobody waits and there is room: add
 *            the job as usual. It is counted in \`starting\` until the caller
 *            says it was added, so a burst of arrivals cannot all take the same
 *            room; \`spare\` is the room left after it.
 *         1: held in its lane; 2: held, and there is room: dispatch now.
 */
export const ADMIT = luaScript(`${NOW}${CAPACITY}${JOIN}
if redis.call('ZCARD', KEYS[7]) == 0 and released < limit then
  redis.call('ZADD', KEYS[4], now, ARGV[4])
  return {0, math.min(limit - released - 1, 1000000)}
end
local seq = redis.call('INCR', KEYS[9]) % 1000
redis.call('ZADD', ARGV[1] .. ARGV[2] .. ':' .. ARGV[3], now * 1000 + seq, ARGV[4])
join(KEYS[7], KEYS[8], ARGV[2], ARGV[5])
if released < limit then return {2, 0} end
return {1, 0}
`);

/**
 * HOLD: puts many jobs of one workspace and kind in their lane (a batch's
 * lines), each at the order the caller gives: a batch line's index, so lines
 * of several batches interleave as they did by BullMQ priority and a small
 * batch is not stuck behind a big one of the same workspace. Its jobs exist
 * already (see addGenerateJobsFairly), so no grace for a late add is needed.
 * KEYS: 1-6 as CAPACITY, 7 active workspaces, 8 vtime
 * ARGV: 1 lane base, 2 workspace, 3 kind, 4 held channel, then pairs of order, job id
 * Returns 1 when there is room to dispatch now, else 0.
 */
export const HOLD = luaScript(`${NOW}${CAPACITY}${JOIN}
local lane = ARGV[1] .. ARGV[2] .. ':' .. ARGV[3]
for i = 5, #ARGV, 2 do redis.call('ZADD', lane, tonumber(ARGV[i]), ARGV[i + 1]) end
join(KEYS[7], KEYS[8], ARGV[2], ARGV[4])
if released < limit then return 1 end
return 0
`);

/**
 * DISPATCH: picks up to ARGV[3] jobs in weighted fair order while there is
 * room, moving each from its lane to `starting`; the caller promotes them
 * (BullMQ's own promote) and then forgets them. Start-time fair queueing:
 * the workspace with the smallest pass goes next, its pass then grows by
 * 1/weight; a workspace that (re)joins starts at the current virtual time
 * (the pass of the last job picked), so idle time earns no credit.
 * `starting` entries older than ARGV[5] ms (a dispatcher died between pick
 * and promote) are handed out again: promoting twice is harmless.
 * KEYS: 1-6 as CAPACITY, 7 active workspaces, 8 vtime, 9 weights, 10 delayed
 * ARGV: 1 lane base, 2 job key prefix, 3 most to pick, 4 grace for a job still being added (ms), 5 starting timeout (ms)
 * Returns the job ids to promote, and how many workspaces still hold work.
 */
export const DISPATCH = luaScript(`${NOW}${CAPACITY}${HEAD}
local picked = {}
local stale = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now - tonumber(ARGV[5]), 'LIMIT', 0, 100)
for _, id in ipairs(stale) do
  redis.call('ZADD', KEYS[4], now, id)
  picked[#picked + 1] = id
end
local room = math.min(limit - released, tonumber(ARGV[3]))
local skipped = {}
local skippedCount = 0
local steps = 0
while room > 0 and steps < 1000 do
  steps = steps + 1
  local candidates = redis.call('ZRANGE', KEYS[7], 0, skippedCount, 'WITHSCORES')
  local workspace, pass = nil, nil
  for i = 1, #candidates, 2 do
    if not skipped[candidates[i]] then
      workspace, pass = candidates[i], tonumber(candidates[i + 1])
      break
    end
  end
  if workspace == nil then break end
  local lane, id, score = head(ARGV[1], workspace)
  if lane == nil then
    redis.call('ZREM', KEYS[7], workspace)
  elseif redis.call('ZSCORE', KEYS[10], id) then
    redis.call('ZREM', lane, id)
    redis.call('ZADD', KEYS[4], now, id)
    picked[#picked + 1] = id
    room = room - 1
    redis.call('SET', KEYS[8], tostring(pass))
    -- Still work in the same lane: no need to look through the others.
    if redis.call('ZCARD', lane) == 0 and head(ARGV[1], workspace) == nil then
      redis.call('ZREM', KEYS[7], workspace)
    else
      redis.call('ZADD', KEYS[7], pass + 1 / weightOf(KEYS[9], workspace), workspace)
    end
  elseif redis.call('EXISTS', ARGV[2] .. id) == 0 and now - math.floor(score / 1000) < tonumber(ARGV[4]) then
    -- Held a moment ago and not added yet: leave the workspace for this round.
    skipped[workspace] = true
    skippedCount = skippedCount + 1
  else
    -- Withdrawn, or already out of the delayed set: nothing left to dispatch.
    redis.call('ZREM', lane, id)
  end
end
return {picked, redis.call('ZCARD', KEYS[7])}
`);

/**
 * WITHDRAW: takes jobs out of a workspace's lanes (a caller hung up, a batch was cancelled).
 * KEYS: 1 active workspaces; ARGV: 1 lane base, 2 workspace, 3.. job ids
 * Returns how many were held.
 */
export const WITHDRAW = luaScript(`${HEAD}
local removed = 0
for _, kind in ipairs(KINDS) do
  local lane = ARGV[1] .. ARGV[2] .. ':' .. kind
  for i = 3, #ARGV do removed = removed + redis.call('ZREM', lane, ARGV[i]) end
end
if head(ARGV[1], ARGV[2]) == nil then redis.call('ZREM', KEYS[1], ARGV[2]) end
return removed
`);

/**
 * POSITION: a held job's place in the fair order, estimated from the passes:
 * jobs released and not started, the jobs ahead of it in its own lanes, and
 * for each other waiting workspace the turns it takes before this job's turn
 * (ties counted as ahead), bounded by what it holds.
 * KEYS: 1 wait, 2 prioritized, 3 active workspaces, 4 weights, 5 vtime
 * ARGV: 1 lane base, 2 workspace, 3 job id
 * Returns the 1-based position, or -1 when the job is not held.
 */
export const POSITION = luaScript(`${HEAD}
local function held(workspace)
  local count = 0
  for _, kind in ipairs(KINDS) do count = count + redis.call('ZCARD', ARGV[1] .. workspace .. ':' .. kind) end
  return count
end
local own = nil
local before = 0
for _, kind in ipairs(KINDS) do
  local lane = ARGV[1] .. ARGV[2] .. ':' .. kind
  local rank = redis.call('ZRANK', lane, ARGV[3])
  if rank then own = before + rank + 1 break end
  before = before + redis.call('ZCARD', lane)
end
if own == nil then return -1 end
local myPass = tonumber(redis.call('ZSCORE', KEYS[3], ARGV[2])) or tonumber(redis.call('GET', KEYS[5])) or 0
local turn = myPass + (own - 1) / weightOf(KEYS[4], ARGV[2])
local ahead = 0
local others = redis.call('ZRANGE', KEYS[3], 0, 999, 'WITHSCORES')
for i = 1, #others, 2 do
  local pass = tonumber(others[i + 1])
  if others[i] ~= ARGV[2] and pass <= turn then
    ahead = ahead + math.min(held(others[i]), math.floor((turn - pass) * weightOf(KEYS[4], others[i])) + 1)
  end
end
return redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2]) + ahead + own
`);

/**
 * QUEUED: jobs held per waiting workspace (at most 1000 workspaces), as a flat list.
 * KEYS: 1 active workspaces; ARGV: 1 lane base
 */
export const QUEUED = luaScript(`
local out = {}
for _, workspace in ipairs(redis.call('ZRANGE', KEYS[1], 0, 999)) do
  local count = 0
  for _, kind in ipairs({'sync', 'async', 'batch'}) do count = count + redis.call('ZCARD', ARGV[1] .. workspace .. ':' .. kind) end
  out[#out + 1] = workspace
  out[#out + 1] = count
end
return out
`);

/**
 * REPORT: a worker says what it can run, for the next ARGV[4] ms.
 * KEYS: 1 workers, 2 worker capacity; ARGV: 1 worker id, 2 own, 3 ceiling, 4 ttl ms
 */
export const REPORT = luaScript(`${NOW}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
return 1
`);
