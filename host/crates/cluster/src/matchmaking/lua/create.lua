-- Queues a ticket unless its id exists or a party member waits elsewhere.
-- ARGV: namespace, id, ticket JSON, queue key, ticket key TTL (ms),
-- player hold TTL (ms), the SHA-256 (hex) of the ticket's secret, then the
-- party's player ids.
-- Returns {'ok'}, {'duplicate'} or {'player_queued', player}: never the
-- holding ticket's id, which only its creator may know.
local id, ticket_json, queue, secret = ARGV[2], ARGV[3], ARGV[4], ARGV[7]
local key = ticket_key(id)
if redis.call('EXISTS', key) == 1 then return {'duplicate'} end
for i = 8, #ARGV do
  local holder = redis.call('GET', player_key(ARGV[i]))
  if holder and is_waiting(holder) then return {'player_queued', ARGV[i]} end
end
redis.call('HSET', key, 'ticket', ticket_json, 'state', 'waiting', 'queue', queue, 'secret', secret)
redis.call('PEXPIRE', key, ARGV[5])
redis.call('HSET', queue, id, ticket_json)
for i = 8, #ARGV do redis.call('SET', player_key(ARGV[i]), id, 'PX', ARGV[6]) end
return {'ok'}
