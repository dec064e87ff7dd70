-- Takes or renews a lease: KEYS[1] the lease key, ARGV[1] the holder,
-- ARGV[2] its TTL in ms. 1 when the holder has the lease now, 0 when
-- another holder does.
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
