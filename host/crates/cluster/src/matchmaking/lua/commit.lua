-- Claims the tickets of each match and stores the match, atomically per
-- match: a match is committed only if all its tickets are still waiting.
-- ARGV: namespace, retention (ms), then per match: match id, match JSON,
-- ticket count, ticket ids. Returns the ids of the committed matches.
local retention_ms = ARGV[2]
local now = now_ms()
local committed = {}
local at = 3
while at <= #ARGV do
  local match_id, match_json, count = ARGV[at], ARGV[at + 1], tonumber(ARGV[at + 2])
  local first, last = at + 3, at + 2 + count
  local all_waiting = true
  for i = first, last do
    if not is_waiting(ARGV[i]) then all_waiting = false; break end
  end
  if all_waiting then
    for i = first, last do finish(ARGV[i], 'matched', match_id, retention_ms) end
    redis.call('SET', match_key(match_id), match_json, 'PX', retention_ms)
    redis.call('ZADD', unassigned_key(), now, match_id)
    committed[#committed + 1] = match_id
  end
  at = last + 1
end
return committed
