-- Shared head of every ticket store script (host/crates/cluster/src/matchmaking/redis.rs).
-- ARGV[1] is the key namespace; keys are derived from it, so the store needs
-- a non-cluster Redis (or one where the namespace maps to a single slot).
--
-- A ticket is a hash {ticket = JSON,
-- state = waiting|matched|expired|cancelled|failed, queue = key of its queue
-- hash, match_id, secret = SHA-256 (hex) of its secret}; a queue hash maps
-- the ids of its waiting tickets to their JSON; a player key names the
-- waiting ticket that holds the player.
local namespace = ARGV[1]

local function ticket_key(id) return namespace .. ':ticket:' .. id end
local function player_key(player) return namespace .. ':player:' .. player end
local function match_key(id) return namespace .. ':match:' .. id end
local function assignment_key(id) return namespace .. ':assignment:' .. id end
-- Sorted set of matches without a room yet, scored by when (ms) they were
-- committed or last claimed for another try.
local function unassigned_key() return namespace .. ':unassigned' end

local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

local function is_waiting(id)
  return redis.call('HGET', ticket_key(id), 'state') == 'waiting'
end

-- Takes a waiting ticket out of its queue, releases its players and moves
-- it to `state`; it stays readable for `retention_ms`.
local function finish(id, state, match_id, retention_ms)
  local key = ticket_key(id)
  local fields = redis.call('HMGET', key, 'ticket', 'queue')
  redis.call('HDEL', fields[2], id)
  for _, player in ipairs(cjson.decode(fields[1]).party) do
    local held_by = player_key(player)
    if redis.call('GET', held_by) == id then redis.call('DEL', held_by) end
  end
  redis.call('HSET', key, 'state', state)
  if match_id then redis.call('HSET', key, 'match_id', match_id) end
  redis.call('PEXPIRE', key, retention_ms)
end

