-- TOTP step compare-and-set (RFC 6238 §5.2). KEYS: last-step key. ARGV: step, ttl seconds.
local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
