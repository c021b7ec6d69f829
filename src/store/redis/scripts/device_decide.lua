-- The user's answer to a device authorization (RFC 8628 §3.3; the twin of memory/device.rs).
-- KEYS: device hash. ARGV: now ms, 'approved' or 'denied', approval JSON (empty when denied).
-- Only a pending, unexpired authorization is decided, once.
local f = redis.call('HMGET', KEYS[1], 'status', 'expires')
if f[1] ~= 'pending' or tonumber(ARGV[1]) >= tonumber(f[2]) then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'approval', ARGV[3])
return 1
