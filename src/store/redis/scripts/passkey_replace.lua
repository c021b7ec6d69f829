-- Replaces a passkey's record only while it is registered.
-- KEYS: the user's passkey hash. ARGV: credential id, record JSON. Returns 1 replaced, 0 gone.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
