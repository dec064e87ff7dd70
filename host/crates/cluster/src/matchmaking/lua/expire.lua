-- Expires the tickets that are still waiting. ARGV: namespace, retention (ms),
-- queue key, then ticket ids. Queue entries whose ticket key is already gone
-- (its TTL ran out while no matcher ran) are dropped.
-- Returns the ids it expired.
local retention_ms, queue = ARGV[2], ARGV[3]
local expired = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  if is_waiting(id) then
    finish(id, 'expired', nil, retention_ms)
    expired[#expired + 1] = id
  elseif redis.call('EXISTS', ticket_key(id)) == 0 then
    redis.call('HDEL', queue, id)
  end
end
return expired
