-- The flash-sale buy, atomically and in one round trip: rate limit, sale window, per-user
-- limit, stock check and decrement, buyer recorded. All keys share the product's hash tag.
-- KEYS[1] product hash, KEYS[2] stock, KEYS[3] buyers hash, KEYS[4] rate-limit sorted set,
-- KEYS[5] order-state hash, KEYS[6] (optional) the order marker seckill:order:<order id>
-- ARGV[1] user id, ARGV[2] quantity, ARGV[3] per-user limit, ARGV[4] rate limit (requests
-- per window, 0 = off), ARGV[5] window in ms, ARGV[6] the order id this buy will carry,
-- ARGV[7] the marker's value "<user>|<product id>|queued", ARGV[8] its lifetime in seconds
-- The marker is the one key outside the product's hash tag (GET /order/{id} finds it by the
-- order id alone): on a Redis Cluster, leave KEYS[6] out and write it apart.
-- Returns {code, n, price}: 0 ok (n = stock left, price = unit price), 1 no such product,
-- 2 not started (n = ms to go), 3 ended, 4 sold out, 5 already bought (n = units bought),
-- 6 rate limited (n = ms to wait), 7 stock not cached (the caller rebuilds the cache).
-- A sale is recorded under its order id ('sold'), so a call repeated after a lost
-- connection answers the same instead of selling twice.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

if redis.call('HEXISTS', KEYS[5], ARGV[6]) == 1 then
  return {0, tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('HGET', KEYS[1], 'seckill_price') or ''}
end

local limit = tonumber(ARGV[4])
if limit > 0 then
  local window = tonumber(ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - window)
  if redis.call('ZCARD', KEYS[4]) >= limit then
    local oldest = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
    return {6, math.max(1, tonumber(oldest[2]) + window - now)}
  end
  redis.call('ZADD', KEYS[4], now, ARGV[6])
  redis.call('PEXPIRE', KEYS[4], window)
end

local p = redis.call('HMGET', KEYS[1], 'status', 'start', 'end', 'seckill_price')
if not p[1] then return {1, 0} end
if tonumber(p[1]) == 2 or now >= tonumber(p[3]) * 1000 then return {3, 0} end
local start = tonumber(p[2]) * 1000
if now < start then return {2, start - now} end

local qty = tonumber(ARGV[2])
local bought = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
if bought + qty > tonumber(ARGV[3]) then return {5, bought} end

local stock = redis.call('GET', KEYS[2])
if not stock then return {7, 0} end
stock = tonumber(stock)
if stock < qty then return {4, stock} end

redis.call('DECRBY', KEYS[2], qty)
redis.call('HINCRBY', KEYS[3], ARGV[1], qty)
redis.call('HSET', KEYS[5], ARGV[6], 'sold')
redis.call('PEXPIRE', KEYS[5], 604800000)
if KEYS[6] then redis.call('SET', KEYS[6], ARGV[7], 'EX', ARGV[8]) end
if bought == 0 then
  -- the buyers hash lives as long as the product's cache
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
end
return {0, stock - qty, p[4]}
