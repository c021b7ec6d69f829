-- One attempt against a typed record's budget, spent before the attempt is evaluated.
-- KEYS: record hash. ARGV: max attempts. Returns the attempts so far, this one included
-- (0: no record); an attempt past the max deletes the record.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if n > tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) end
return n
