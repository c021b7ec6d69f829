-- The state of one refresh token, changing nothing.
-- KEYS: family hash, used set. ARGV: token hash.
local f = redis.call('HMGET', KEYS[1], 'current', 'sub', 'client_id', 'scope', 'auth_time', 'amr', 'username', 'email', 'jkt', 'reg')
if not f[1] then return {'unknown'} end
local kind = 'unknown'
if f[1] == ARGV[1] then kind = 'current'
elseif redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then kind = 'rotated' end
return {kind, f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10]}
