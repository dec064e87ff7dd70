-- Gives up a match that got no room: its tickets (those still matched to
-- it) become 'failed', and the match is deleted, so neither a recovery
-- claim nor a late assignment finds it. A match with a room is left alone.
-- ARGV: namespace, match id. Returns the ids of the tickets failed.
local match_id = ARGV[2]
local match_json = redis.call('GET', match_key(match_id))
if not match_json or redis.call('EXISTS', assignment_key(match_id)) == 1 then return {} end
local failed = {}
for _, id in ipairs(cjson.decode(match_json).tickets) do
  local key = ticket_key(id)
  local fields = redis.call('HMGET', key, 'state', 'match_id')
  if fields[1] == 'matched' and fields[2] == match_id then
    redis.call('HSET', key, 'state', 'failed')
    failed[#failed + 1] = id
  end
end
redis.call('DEL', match_key(match_id))
redis.call('ZREM', unassigned_key(), match_id)
return failed
