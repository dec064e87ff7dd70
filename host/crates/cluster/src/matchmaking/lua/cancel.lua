-- Cancels a waiting ticket. ARGV: namespace, ticket id, retention (ms).
-- Returns 'ok', 'not_found', or the state that prevents it.
local state = redis.call('HGET', ticket_key(ARGV[2]), 'state')
if not state then return 'not_found' end
if state ~= 'waiting' then return state end
finish(ARGV[2], 'cancelled', nil, ARGV[3])
return 'ok'
