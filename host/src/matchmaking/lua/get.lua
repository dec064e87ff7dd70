-- A ticket with its match and room assignment, read in one step.
-- ARGV: namespace, ticket id.
-- Returns {} when unknown, else {ticket JSON, state[, match JSON, assignment JSON]}.
local fields = redis.call('HMGET', ticket_key(ARGV[2]), 'ticket', 'state', 'match_id')
if not fields[1] then return {} end
if fields[2] ~= 'matched' then return {fields[1], fields[2]} end
local found = redis.call('MGET', match_key(fields[3]), assignment_key(fields[3]))
return {fields[1], fields[2], found[1], found[2]}
