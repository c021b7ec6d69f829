-- Per-account second-factor limit (backoff.lua is prepended). KEYS: rl:factor:<sub>.
-- ARGV: now ms, failure limit, back-off base ms, back-off max ms, failure window ms.
-- Refused while `until` lies ahead; otherwise the attempt counts as a failure before the
-- factor is checked (a correct factor clears the count), so parallel attempts cannot
-- overshoot, and reaching the limit starts the back-off.
local now = tonumber(ARGV[1])
local until_ms = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if until_ms > now then return {'second_factor', until_ms - now} end
count_failure(KEYS[1], now, tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]),
  tonumber(ARGV[5]))
return {'ok', 0}
