-- Adds a passkey unless its id is registered or the user has the maximum.
-- KEYS: the user's passkey hash. ARGV: credential id, record JSON, maximum.
-- Returns 1 added, 0 the id exists, -1 full.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
