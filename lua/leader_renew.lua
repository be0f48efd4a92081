-- Extends the scheduler lock only while this worker still holds it (compare and pexpire): a
-- worker whose lock expired or went to another never extends the new holder's.
-- KEYS[1] the lock, seckill:scheduler:leader
-- ARGV[1] this worker's holder id, hostname:pid:random
-- ARGV[2] the new time to live in milliseconds
-- Returns 1 when renewed, 0 when the lock is not ours (any more).
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
