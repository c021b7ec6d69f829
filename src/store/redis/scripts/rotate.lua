-- Refresh-token rotation (RFC 9700 §4.14.2).
-- KEYS: family hash, used set. ARGV: presented hash, successor hash, client id, DPoP jkt of
-- the request ('' without a proof), scopes...
-- The family keeps its expiry (sessions live a fixed time from login); the used set follows it.
-- RFC 9449 §5: a family bound to a DPoP key rotates only with a proof of that key; otherwise
-- nothing changes (not reuse: the family is not revoked).
local cur = redis.call('HGET', KEYS[1], 'current')
if not cur then return {'invalid'} end
local bound = redis.call('HGET', KEYS[1], 'jkt')
if bound and bound ~= '' and bound ~= ARGV[4] then return {'dpop'} end
if cur ~= ARGV[1] then
  if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
    local f = redis.call('HMGET', KEYS[1], 'sub', 'client_id')
    redis.call('DEL', KEYS[1], KEYS[2])
    return {'reused', f[1], f[2]}
  end
  return {'invalid'}
end
local f = redis.call('HMGET', KEYS[1], 'sub', 'client_id', 'scope', 'auth_time', 'amr', 'username', 'email', 'jkt')
if f[2] ~= ARGV[3] then return {'invalid'} end
if #ARGV > 4 then
  local granted = {}
  for s in string.gmatch(f[3], '%S+') do granted[s] = true end
  for i = 5, #ARGV do
    if not granted[ARGV[i]] then return {'scope'} end
  end
end
redis.call('HSET', KEYS[1], 'current', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return {'rotated', f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8]}
