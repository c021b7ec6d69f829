-- A correct password resolves its pair. KEYS: account, pair (one hash tag: the account).
-- The pair's first attempt was counted against the account before the password was checked
-- (account_attempt.lua); that count is taken back, the others' stay, and so does a back-off.
-- The account state outlives the pair (it lives a window after its last counted failure), so
-- the count taken back is this pair's own.
if redis.call('DEL', KEYS[2]) == 1
  and tonumber(redis.call('HGET', KEYS[1], 'failures') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'failures', -1)
end
return 0
