-- Sets the sale status of a cached product, forward only (0 -> 1 -> 2, as the guarded UPDATE in
-- MySQL), and only when its hash exists: a missing hash stays missing, so no partial product is
-- ever cached (a later cache write brings the whole hash with the status from MySQL).
-- KEYS[1] the product hash, seckill:product:{p<id>}
-- ARGV[1] the status: 0 not started, 1 on sale, 2 ended
-- Returns 1 when the field changed, else 0.
if redis.call('EXISTS', KEYS[1]) == 0 then
    return 0
end
local new = tonumber(ARGV[1])
local cur = tonumber(redis.call('HGET', KEYS[1], 'status'))
if cur ~= nil and cur >= new then
    return 0
end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
return 1
