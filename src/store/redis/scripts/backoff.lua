-- The back-off shared by the account and second-factor limits, prepended to their scripts
-- (the twin of limits::backoff_ms and of the memory backend's Counter::fail).
-- count_failure: one more failure in the hash `key` (fields `failures until`) at `now`;
-- reaching `limit` starts the back-off base * 2^(n - limit), at most `max`. The failures are
-- remembered `window` ms after the last one, or until the back-off ends if that is later.
local function count_failure(key, now, limit, base, max, window)
  local n = redis.call('HINCRBY', key, 'failures', 1)
  local life = window
  if n >= limit then
    local backoff = math.min(base * (2 ^ math.min(n - limit, 32)), max)
    redis.call('HSET', key, 'until', string.format('%d', now + backoff))
    if backoff > life then life = backoff end
  end
  redis.call('PEXPIRE', key, string.format('%d', life))
end
