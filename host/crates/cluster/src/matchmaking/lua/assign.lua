-- Stores a match's room assignment beside it, expiring with the match.
-- ARGV: namespace, match id, assignment JSON.
-- Returns the match JSON, or nil when the match is unknown.
local key = match_key(ARGV[2])
local match_json = redis.call('GET', key)
if not match_json then return false end
redis.call('ZREM', unassigned_key(), ARGV[2])
local ttl_ms = redis.call('PTTL', key)
if ttl_ms > 0 then
  redis.call('SET', assignment_key(ARGV[2]), ARGV[3], 'PX', ttl_ms)
else
  redis.call('SET', assignment_key(ARGV[2]), ARGV[3])
end
return match_json
