-- The worker claims an order before writing its row, so a module that gave up on it (publish
-- not confirmed in time, see order_revoke.lua) and the worker never both win.
-- KEYS[1] the product's order-state hash; ARGV[1] order id
-- Returns 1 when the order may be created (claimed now or before), 0 when it was revoked.
local s = redis.call('HGET', KEYS[1], ARGV[1])
if s == 'revoked' then return 0 end
if not s or s == 'sold' then
  redis.call('HSET', KEYS[1], ARGV[1], 'claimed')
  redis.call('PEXPIRE', KEYS[1], 604800000)
end
return 1
