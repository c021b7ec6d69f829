-- One poll of a device authorization (RFC 8628 §3.4-3.5; the twin of memory/device.rs).
-- KEYS: device hash. ARGV: client id, now ms.
-- Another client's poll changes nothing. While pending, a poll sooner than `interval` after
-- the previous one is slow_down and grows the interval by `step` (§3.5: "for this and all
-- subsequent requests"); every pending poll becomes the previous one. An approved
-- authorization is redeemed by the first poll only.
local f = redis.call('HMGET', KEYS[1], 'client', 'status', 'expires', 'interval', 'step', 'last', 'data', 'approval')
if not f[1] or f[1] ~= ARGV[1] or f[2] == 'redeemed' then return {'invalid'} end
local now = tonumber(ARGV[2])
if now >= tonumber(f[3]) then return {'expired'} end
if f[2] == 'denied' then return {'denied'} end
if f[2] == 'approved' then
  redis.call('HSET', KEYS[1], 'status', 'redeemed')
  return {'approved', f[7], f[8]}
end
redis.call('HSET', KEYS[1], 'last', string.format('%d', now))
if f[6] and now - tonumber(f[6]) < tonumber(f[4]) then
  redis.call('HSET', KEYS[1], 'interval', string.format('%d', tonumber(f[4]) + tonumber(f[5])))
  return {'slow_down'}
end
return {'pending'}
