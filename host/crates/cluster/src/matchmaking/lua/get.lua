-- A ticket with its secret hash, match and room assignment, read in one step.
-- ARGV: namespace, ticket id.
-- Returns {} when unknown, else {ticket JSON, state, secret hash (false for a
-- ticket stored without one)[, match JSON, assignment JSON]}.
local fields = redis.call('HMGET', ticket_key(ARGV[2]), 'ticket', 'state', 'secret', 'match_id')
if not fields[1] then return {} end
if fields[2] ~= 'matched' then return {fields[1], fields[2], fields[3]} end
local found = redis.call('MGET', match_key(fields[4]), assignment_key(fields[4]))
return {fields[1], fields[2], fields[3], found[1], found[2]}
