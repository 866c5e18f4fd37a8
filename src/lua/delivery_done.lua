-- SPDX-License-Identifier: MIT
-- Records delivery attempts, a batch at a time (a logout-all finishes
-- thousands a second; one round trip each would be the bottleneck), and
-- decides what comes next for each: delivered, retried at next_due, or
-- failed after max attempts (SPEC §6). The ledger of attempts stays on the
-- delivery's hash for 7 days.
-- KEYS[1] dq  KEYS[2] dfail (zset id -> failed time)
-- ARGV: prefix, now, max_attempts, then six per attempt: id, outcome text,
--       delivered (1/0), next_due (epoch seconds to the millisecond: a
--       retry 1 s ±20% later must not round to whole seconds), token,
--       token_exp
-- Returns one integer per attempt: 1 delivered, 2 failed for good, 0 to be
-- retried, -1 unknown id. A delivery that fails for good is also written to
-- the audit stream (SPEC §6), in the same step: an app that never heard of a
-- sign-out is something an auditor must find.
local p, now, max = ARGV[1], ARGV[2], tonumber(ARGV[3])
-- cmd(key, list...) in slices of 1,000 (an even count, so score/member
-- pairs stay whole): Lua's unpack takes only so many values at once.
local function each_slice(cmd, key, list)
    for i = 1, #list, 1000 do
        redis.call(cmd, key, unpack(list, i, math.min(i + 999, #list)))
    end
end

local out, done, failed = {}, {}, {}
for i = 4, #ARGV, 6 do
    local id, outcome, delivered = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    local k = p .. 'dl:' .. id
    if redis.call('EXISTS', k) == 0 then
        done[#done + 1] = id
        out[#out + 1] = -1
    else
        -- Counted here, not by the engine: two attempts of one delivery
        -- (a lease that ran out) must not both be recorded as the same.
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
            done[#done + 1] = id
            if st == 'failed' then
                failed[#failed + 1] = now
                failed[#failed + 1] = id
                local f = redis.call('HMGET', k, 'sub', 'r')
                redis.call('XADD', p .. 'audit', 'MAXLEN', '~', 100000, '*',
                           'action', 'delivery_failed', 'actor', 'gatehouse',
                           'target', id, 'sub', f[1] or '', 'reason',
                           n .. ' attempts, last: ' .. outcome,
                           'outcome', 'failed')
            end
            -- A pending delivery never expires; a finished one's ledger
            -- stays 7 days.
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
-- Off the queue in one command for the batch, not one per delivery.
each_slice('ZREM', KEYS[1], done)
each_slice('ZADD', KEYS[2], failed)
return out
