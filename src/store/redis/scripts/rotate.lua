-- Refresh-token rotation (RFC 9700 §4.14.2) with the refresh grace window.
-- KEYS: family hash, used set, grace hash. ARGV: presented hash, successor hash, client id,
-- DPoP jkt of the request ('' without a proof), now (unix s), grace (ms; 0: none), the
-- successor sealed with the data key ('' without grace), the client's registration (ms),
-- scopes...
-- A family opened under another registration of the presenting client's id (`reg`; absent: 0)
-- is invalid, changing nothing: a client removed and registered again never gets its old
-- sessions back. (Another client presenting a token is handled below as before.)
-- The family keeps its expiry (sessions live a fixed time from login); the used set follows it.
-- RFC 9449 §5: a family bound to a DPoP key rotates only with a proof of that key; otherwise
-- nothing changes (not reuse: the family is not revoked).
local f = redis.call('HMGET', KEYS[1], 'sub', 'client_id', 'scope', 'auth_time', 'amr', 'username', 'email', 'jkt', 'current', 'reg')
local cur = f[9]
if not cur then return {'invalid'} end
local reg = f[10] or '0'
if reg == '' then reg = '0' end
if f[2] == ARGV[3] and reg ~= ARGV[8] then return {'invalid'} end
if f[8] and f[8] ~= '' and f[8] ~= ARGV[4] then return {'dpop'} end
local function within_grant()
  if #ARGV <= 8 then return true end
  local granted = {}
  for s in string.gmatch(f[3], '%S+') do granted[s] = true end
  for i = 9, #ARGV do
    if not granted[ARGV[i]] then return false end
  end
  return true
end
if cur ~= ARGV[1] then
  if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
    -- The grace window: the parent of the current token, while the current one is unused and
    -- the grace record lives, gets the same successor again. Anything else is reuse.
    local g = redis.call('HMGET', KEYS[3], 'parent', 'successor', 'sealed')
    if g[1] == ARGV[1] and g[2] == cur and f[2] == ARGV[3] then
      if not within_grant() then return {'scope'} end
      return {'repeated', f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], reg, g[3]}
    end
    redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
    return {'reused', f[1], f[2]}
  end
  return {'invalid'}
end
if f[2] ~= ARGV[3] then return {'invalid'} end
if not within_grant() then return {'scope'} end
redis.call('HSET', KEYS[1], 'current', ARGV[2], 'refreshed', ARGV[5])
redis.call('SADD', KEYS[2], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
if ARGV[6] ~= '0' then
  redis.call('HSET', KEYS[3], 'parent', ARGV[1], 'successor', ARGV[2], 'sealed', ARGV[7])
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
end
return {'rotated', f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], reg}
