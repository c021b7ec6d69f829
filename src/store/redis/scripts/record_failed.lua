-- A failure against a typed record; the record dies at the limit.
-- KEYS: record hash. ARGV: max failures. Returns the failures so far (0: no record).
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if n >= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) end
return n
