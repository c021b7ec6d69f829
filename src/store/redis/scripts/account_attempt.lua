-- Per-account limits (backoff.lua is prepended). KEYS: account, pair (one hash tag: the account).
-- ARGV: now ms, failure limit, back-off base ms, back-off max ms, failure window ms.
-- Every allowed attempt counts as an unresolved failure of its (account, address) pair before
-- the password is checked (a success clears the pair), so parallel attempts cannot overshoot.
-- 1. Pair: at most `limit` unresolved attempts per (account, address), in a window of
--    `window` ms from the first.
-- 2. An address with an unresolved failure is refused during the account back-off (until its
--    pair expires or the back-off ends), and its further failures do not extend the back-off.
-- 3. An address with none is let through the back-off; its first failure counts against the
--    account, and reaching the limit starts (or extends) the back-off
--    base * 2^(n - limit), capped (count_failure of backoff.lua).
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[5])
local pair = tonumber(redis.call('GET', KEYS[2]) or '0')
if pair > 0 then
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl < 1 then ttl = 1 end
  if pair >= limit then return {'pair', ttl} end
  local wait = tonumber(redis.call('HGET', KEYS[1], 'until') or '0') - now
  if wait > 0 then return {'account', math.min(wait, ttl)} end
  redis.call('INCR', KEYS[2])
  return {'ok', 0}
end
redis.call('SET', KEYS[2], '1', 'PX', window)
count_failure(KEYS[1], now, limit, tonumber(ARGV[3]), tonumber(ARGV[4]), window)
return {'ok', 0}
