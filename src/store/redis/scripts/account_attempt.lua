-- Per-account limits (backoff.lua is prepended). KEYS: account, pair (one hash tag).
-- ARGV: now ms, failure limit, back-off base ms, back-off max ms, failure window ms.
-- 1. Account back-off: refused while `until` lies ahead.
-- 2. Pair: at most `limit` unresolved attempts per (account, IP).
-- 3. Account: the attempt is counted before the password is checked (a success clears the
--    count), so parallel attempts cannot overshoot; reaching the limit starts the back-off
--    (count_failure of backoff.lua).
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[5])
local until_ms = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if until_ms > now then return {'account', until_ms - now} end
local pair = redis.call('INCR', KEYS[2])
if pair == 1 then redis.call('PEXPIRE', KEYS[2], window) end
if pair > limit then
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl < 1 then ttl = 1 end
  return {'pair', ttl}
end
count_failure(KEYS[1], now, limit, tonumber(ARGV[3]), tonumber(ARGV[4]), window)
return {'ok', 0}
