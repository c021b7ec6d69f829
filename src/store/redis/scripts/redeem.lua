-- Single-use redemption of a typed record (RFC 6749 §4.1.2: codes are single use).
-- KEYS: record hash. ARGV: family id.
local data = redis.call('HGET', KEYS[1], 'data')
if not data then return {'unknown'} end
local first = redis.call('HGET', KEYS[1], 'family')
if first then return {'reused', first} end
redis.call('HSET', KEYS[1], 'family', ARGV[1])
return {'fresh', data}
