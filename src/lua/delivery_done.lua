-- SPDX-License-Identifier: MIT
-- Records delivery attempts, a batch at a time (a logout-all finishes
-- thousands a second; one round trip each would be the bottleneck), and
-- decides what comes next for each: delivered, retried at next_due, or
-- failed after max attempts (SPEC §6). The ledger of attempts stays on the
-- delivery's hash for 7 days.
-- KEYS[1] dq  KEYS[2] dfail (zset id -> failed time)
-- ARGV: prefix, now, max_attempts, then six per attempt: id, outcome text,
--       delivered (1/0), next_due, token, token_exp
-- Returns one integer per attempt: 1 delivered, 2 failed for good, 0 to be
-- retried, -1 unknown id.
local p, now, max = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out = {}
for i = 4, #ARGV, 6 do
    local id, outcome, delivered = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    local k = p .. 'dl:' .. id
    if redis.call('EXISTS', k) == 0 then
        redis.call('ZREM', KEYS[1], id)
        out[#out + 1] = -1
    else
        local n = redis.call('HINCRBY', k, 'n', 1)
        local attempt = 't' .. n
        if delivered == '1' or n >= max then
            local st = delivered == '1' and 'delivered' or 'failed'
            redis.call('HSET', k, attempt, now .. ' ' .. outcome, 'st', st,
                       'd', now)
            -- Only a retried delivery kept a token.
            if n > 1 then
                redis.call('HDEL', k, 'tok', 'tx')
            end
            redis.call('ZREM', KEYS[1], id)
            if st == 'failed' then
                redis.call('ZADD', KEYS[2], now, id)
            end
            redis.call('EXPIRE', k, 604800)
            out[#out + 1] = st == 'delivered' and 1 or 2
        else
            -- The next attempt reuses this token while it is fresh enough.
            redis.call('HSET', k, attempt, now .. ' ' .. outcome,
                       'tok', ARGV[i + 4], 'tx', ARGV[i + 5])
            redis.call('ZADD', KEYS[1], tonumber(ARGV[i + 3]), id)
            out[#out + 1] = 0
        end
    end
end
return out
