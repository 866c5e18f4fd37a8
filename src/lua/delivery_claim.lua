-- SPDX-License-Identifier: MIT
-- Claims back-channel deliveries that are due. A claim is a lease: the
-- delivery's time in the queue moves to now + lease, so if this instance
-- dies mid-delivery another claims it when the lease runs out (at-least-
-- once; each attempt's token has its own jti so apps drop duplicates).
-- KEYS[1] dq (zset id -> due time, epoch seconds to the millisecond)
-- ARGV: prefix, now (to the millisecond), lease_s, max
-- Returns {id, client_id, uri, sid, sub, attempts, token, token_exp, ...}
-- eight fields per delivery.
local p = ARGV[1]
local now = tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0,
                       tonumber(ARGV[4]))
-- cmd(key, list...) in slices of 1,000 (an even count, so score/member
-- pairs stay whole): Lua's unpack takes only so many values at once.
local function each_slice(cmd, key, list)
    for i = 1, #list, 1000 do
        redis.call(cmd, key, unpack(list, i, math.min(i + 999, #list)))
    end
end

local out, lease, gone = {}, {}, {}
local until_ = now + tonumber(ARGV[3])
for _, id in ipairs(ids) do
    local d = redis.call('HMGET', p .. 'dl:' .. id, 'cid', 'uri', 'sid',
                         'sub', 'n', 'tok', 'tx')
    if d[1] then
        lease[#lease + 1] = until_
        lease[#lease + 1] = id
        out[#out + 1] = id
        for i = 1, 7 do
            out[#out + 1] = d[i] or ''
        end
    else
        -- Its record is gone (expired ledger): nothing left to deliver.
        gone[#gone + 1] = id
    end
end
-- One command for the whole batch, not one per delivery: a logout-all
-- claims thousands a second.
each_slice('ZADD', KEYS[1], lease)
each_slice('ZREM', KEYS[1], gone)
return out
