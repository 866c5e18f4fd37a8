-- SPDX-License-Identifier: MIT
-- Records delivery attempts, a batch at a time (a logout-all finishes
-- thousands a second; one round trip each would be the bottleneck), and
-- decides what comes next for each: delivered, retried at next_due, or
-- failed after max attempts (SPEC §6). The ledger of attempts stays on the
-- delivery's hash for 7 days after its last attempt.
-- KEYS[1] dq  KEYS[2] dfail (zset id -> failed time)
-- ARGV: prefix, now, max_attempts, then seven per attempt: id, outcome
--       text, delivered (1/0), next_due, token, token_exp, and which attempt
--       it was (1 for the first: the claim told the engine how many came
--       before, so no read is needed here)
-- Returns one integer per attempt: 1 delivered, 2 failed for good, 0 to be
-- retried, -1 unknown id.
local p, now, max = ARGV[1], ARGV[2], tonumber(ARGV[3])
-- cmd(key, list...) in slices of 1,000 (an even count, so score/member
-- pairs stay whole): Lua's unpack takes only so many values at once.
local function each_slice(cmd, key, list)
    for i = 1, #list, 1000 do
        redis.call(cmd, key, unpack(list, i, math.min(i + 999, #list)))
    end
end

local out, done, failed = {}, {}, {}
for i = 4, #ARGV, 7 do
    local id, outcome, delivered = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    local n = tonumber(ARGV[i + 6])
    local k = p .. 'dl:' .. id
    -- EXPIRE answers 0 for a key that is gone (an expired ledger), so it
    -- is the existence check as well as the ledger's 7 days.
    if redis.call('EXPIRE', k, 604800) == 0 then
        done[#done + 1] = id
        out[#out + 1] = -1
    else
        local attempt = 't' .. n
        if delivered == '1' or n >= max then
            local st = delivered == '1' and 'delivered' or 'failed'
            redis.call('HSET', k, 'n', n, attempt, now .. ' ' .. outcome,
                       'st', st, 'd', now)
            -- Only a retried delivery kept a token.
            if n > 1 then
                redis.call('HDEL', k, 'tok', 'tx')
            end
            done[#done + 1] = id
            if st == 'failed' then
                failed[#failed + 1] = now
                failed[#failed + 1] = id
            end
            out[#out + 1] = st == 'delivered' and 1 or 2
        else
            -- The next attempt reuses this token while it is fresh enough.
            redis.call('HSET', k, 'n', n, attempt, now .. ' ' .. outcome,
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
