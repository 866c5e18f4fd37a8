-- SPDX-License-Identifier: MIT
-- Records one delivery attempt and decides what comes next: delivered,
-- retried at next_due, or failed after max attempts (SPEC §6). The ledger
-- of attempts stays on the delivery's hash for 7 days.
-- KEYS[1] dq  KEYS[2] dfail (zset id -> failed time)
-- ARGV: prefix, id, now, outcome text, delivered (1/0), next_due,
--       max_attempts, token, token_exp
-- Returns 1 delivered, 2 failed for good, 0 to be retried, -1 unknown id.
local k = ARGV[1] .. 'dl:' .. ARGV[2]
if redis.call('EXISTS', k) == 0 then
    redis.call('ZREM', KEYS[1], ARGV[2])
    return -1
end
local n = redis.call('HINCRBY', k, 'n', 1)
redis.call('HSET', k, 't' .. n, ARGV[3] .. ' ' .. ARGV[4],
           'tok', ARGV[8], 'tx', ARGV[9])
if ARGV[5] == '1' then
    redis.call('HSET', k, 'st', 'delivered', 'd', ARGV[3])
    redis.call('HDEL', k, 'tok')
    redis.call('ZREM', KEYS[1], ARGV[2])
    redis.call('EXPIRE', k, 604800)
    return 1
end
if n >= tonumber(ARGV[7]) then
    redis.call('HSET', k, 'st', 'failed', 'd', ARGV[3])
    redis.call('HDEL', k, 'tok')
    redis.call('ZREM', KEYS[1], ARGV[2])
    redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
    redis.call('EXPIRE', k, 604800)
    return 2
end
redis.call('ZADD', KEYS[1], tonumber(ARGV[6]), ARGV[2])
return 0
