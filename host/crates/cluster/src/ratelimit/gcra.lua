-- Generic cell rate algorithm (GCRA), atomically in Redis, shared by every
-- node: KEYS[1] holds the key's theoretical arrival time (TAT) in
-- microseconds of the Redis server clock.
-- ARGV[1]: emission interval (µs, period / burst); ARGV[2]: burst.
-- Returns 0 when the request is allowed, else the µs until it would be.
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])

local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local allowed_at = new_tat - burst * interval
if now < allowed_at then
  return allowed_at - now
end
-- The key lives as long as it differs from a fresh one.
-- (At least 1 ms: a limit so high that its interval rounds to 0 µs still
-- needs a valid expiry.)
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.max(1, math.ceil((new_tat - now) / 1000)))
return 0
