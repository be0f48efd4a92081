-- Gives back, exactly once, the units of an order that was cancelled (timeout, shopper) or
-- that failed for good, and lifts the shopper's limit. Safe to repeat after a crash.
-- KEYS[1] stock, KEYS[2] buyers hash, KEYS[3] order-state hash (one product's hash tag)
-- ARGV[1] order id, ARGV[2] user id, ARGV[3] quantity
-- Returns 1 when given back now, 0 when it was already (restored or revoked).
local s = redis.call('HGET', KEYS[3], ARGV[1])
if s == 'restored' or s == 'revoked' then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], 'restored')
redis.call('PEXPIRE', KEYS[3], 604800000)
local qty = tonumber(ARGV[3])
-- a stock key gone with the cache is rebuilt from MySQL, which gets the units back too
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCRBY', KEYS[1], qty) end
if redis.call('HINCRBY', KEYS[2], ARGV[2], -qty) <= 0 then redis.call('HDEL', KEYS[2], ARGV[2]) end
return 1
