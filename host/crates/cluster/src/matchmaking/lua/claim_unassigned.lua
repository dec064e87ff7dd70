-- Claims matches that have waited for a room longer than ARGV[2] ms (their
-- driver died or found no node): each is re-stamped now, so no other caller
-- claims it again before that long. Forgets entries whose match expired.
-- ARGV: namespace, age (ms), most to claim. Returns the claimed match JSONs.
local cutoff = now_ms() - tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', unassigned_key(), '-inf', cutoff, 'LIMIT', 0, tonumber(ARGV[3]))
local claimed = {}
local now = now_ms()
for _, id in ipairs(ids) do
  local match_json = redis.call('GET', match_key(id))
  if match_json and redis.call('EXISTS', assignment_key(id)) == 0 then
    redis.call('ZADD', unassigned_key(), now, id)
    claimed[#claimed + 1] = match_json
  else
    redis.call('ZREM', unassigned_key(), id)
  end
end
return claimed
