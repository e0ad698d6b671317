import type { RedisClient } from "../redis.js";
import { luaScript } from "../lua-script.js";

/**
 * Moves a record hash to a new status only from one of the allowed statuses,
 * setting extra fields in the same step. Atomic, so racing actors (a cancel
 * and a worker finishing, two finalizers) cannot both win.
 * Returns the status the record had, or null when it does not exist.
 */
const TRANSITION = luaScript(`
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return nil end
local allowed = cjson.decode(ARGV[2])
for _, status in ipairs(allowed) do
  if status == current then
    local fields = cjson.decode(ARGV[3])
    redis.call('HSET', KEYS[1], 'status', ARGV[1])
    for name, value in pairs(fields) do redis.call('HSET', KEYS[1], name, value) end
    return {current, 1}
  end
end
return {current, 0}
`);

export interface TransitionOutcome {
  previous: string;
  applied: boolean;
}

export async function transitionStatus(
  redis: RedisClient,
  key: string,
  to: string,
  from: readonly string[],
  fields: Record<string, string | number> = {},
): Promise<TransitionOutcome | null> {
  const reply = (await TRANSITION(redis, [key], [to, JSON.stringify(from), JSON.stringify(fields)])) as [string, number] | null;
  return reply ? { previous: reply[0], applied: reply[1] === 1 } : null;
}
