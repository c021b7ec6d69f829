-- Claims back-channel logout notices (names.rs: `{bcl:<scope>}`).
-- KEYS: stream, retry set. ARGV: group, consumer, count, idle ms, now ms.
-- Moves the due retries into the stream, takes entries another consumer left pending longer
-- than the idle time (its instance died), then new entries. Reply: entry id, notice JSON, ...
redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
local count = tonumber(ARGV[3])
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[5], 'LIMIT', 0, count)
for _, n in ipairs(due) do
  redis.call('XADD', KEYS[1], '*', 'n', n)
  redis.call('ZREM', KEYS[2], n)
end
local out = {}
local function take(entries)
  for _, e in ipairs(entries) do
    local fields = e[2]
    if fields then
      for i = 1, #fields, 2 do
        if fields[i] == 'n' then
          out[#out + 1] = e[1]
          out[#out + 1] = fields[i + 1]
        end
      end
    end
  end
end
local stale = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[4], '0-0', 'COUNT', count)
take(stale[2])
local left = count - #out / 2
if left > 0 then
  local fresh = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', left, 'STREAMS', KEYS[1], '>')
  if fresh then take(fresh[1][2]) end
end
return out
