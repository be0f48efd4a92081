-- The module undoes a buy whose order message the broker did not confirm: the unit and the
-- shopper's limit come back, unless the worker already claimed the order (then it lives).
-- KEYS[1] stock, KEYS[2] buyers hash, KEYS[3] order-state hash (one product's hash tag),
-- KEYS[4] (optional) the order marker seckill:order:<order id>, deleted with the revoke
-- ARGV[1] order id, ARGV[2] user id, ARGV[3] quantity, ARGV[4] (optional) 'fence': the buy
-- never heard whether it sold (its reply was lost with the connection). A sale not made is
-- then recorded as revoked too, so that buy's EVALSHA, should Redis still run it (it may sit
-- in Redis's input after the connection closed), sells nothing; nothing is given back for it.
-- Returns 1 when revoked (now or before), 0 when the order lives on.
local s = redis.call('HGET', KEYS[3], ARGV[1])
if s == 'claimed' or s == 'restored' then return 0 end
if KEYS[4] then redis.call('DEL', KEYS[4]) end
if s == 'revoked' then return 1 end
redis.call('HSET', KEYS[3], ARGV[1], 'revoked')
redis.call('PEXPIRE', KEYS[3], 604800000)
if not s and ARGV[4] == 'fence' then return 1 end
local qty = tonumber(ARGV[3])
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCRBY', KEYS[1], qty) end
if redis.call('HINCRBY', KEYS[2], ARGV[2], -qty) <= 0 then redis.call('HDEL', KEYS[2], ARGV[2]) end
return 1
