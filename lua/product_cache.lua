-- Caches one product for the listing (module on a cache miss, worker on preheat).
-- KEYS[1] product hash, KEYS[2] stock key (same {p<id>} hash tag).
-- ARGV[1] expire-at (epoch seconds), ARGV[2] stock from MySQL, ARGV[3..] field, value pairs.
-- The stock key is written only when absent: during a sale Redis holds the truth and MySQL
-- lags behind by the orders still queued, so overwriting it could sell units twice.
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('SET', KEYS[2], ARGV[2], 'NX')
redis.call('EXPIREAT', KEYS[1], ARGV[1])
redis.call('EXPIREAT', KEYS[2], ARGV[1])
return 1
