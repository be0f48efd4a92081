-- Moves a product's live stock by an admin's edit of the units put on sale, atomically with
-- the check that units already sold (orders still queued included) stay sold: the stock
-- never goes below 0. The admin runs it while it holds the product's row lock in MySQL and
-- moves MySQL's stock by the same delta, so Redis = MySQL still holds once the queue drains.
-- KEYS[1] stock key, seckill:stock:{p<id>}; KEYS[2] the product's edits hash (same tag)
-- ARGV[1] delta (negative takes units off sale)
-- ARGV[2] the stock to set when the key is absent (MySQL's after the edit; a cache fill
--         that read MySQL before the edit then finds the key and leaves it), or '' to
--         leave an absent key absent
-- ARGV[3] expire-at of the keys (epoch seconds)
-- ARGV[4] the edit's id: a call repeated after a lost connection answers as the first did
-- Returns {1, stock after} when done (-1: key absent, left so), {0, stock now} when refused.
local done = redis.call('HGET', KEYS[2], ARGV[4])
if done then return {1, tonumber(done)} end
local s = redis.call('GET', KEYS[1])
local n
if not s then
  if ARGV[2] == '' then
    n = -1
  else
    n = tonumber(ARGV[2])
    redis.call('SET', KEYS[1], n)
    redis.call('EXPIREAT', KEYS[1], ARGV[3])
  end
else
  n = tonumber(s) + tonumber(ARGV[1])
  if n < 0 then return {0, tonumber(s)} end
  redis.call('INCRBY', KEYS[1], ARGV[1])
end
redis.call('HSET', KEYS[2], ARGV[4], n)
redis.call('EXPIREAT', KEYS[2], ARGV[3])
return {1, n}
