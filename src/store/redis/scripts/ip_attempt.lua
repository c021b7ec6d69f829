-- Per-IP login limit, GCRA: every attempt counts (the twin of limits::gcra).
-- KEYS: ip counter. ARGV: now ms, attempts per minute.
local now = tonumber(ARGV[1])
local interval = math.ceil(60000 / tonumber(ARGV[2]))
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > 60000 then return {'ip', new_tat - now - 60000} end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', new_tat - now)
return {'ok', 0}
