-- Gives the scheduler lock back on shutdown, only when this worker holds it (compare and
-- delete), so a standby takes over at its next tick instead of after the lock's expiry.
-- KEYS[1] the lock, seckill:scheduler:leader
-- ARGV[1] this worker's holder id, hostname:pid:random
-- Returns 1 when released, 0 when the lock was not ours.
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
