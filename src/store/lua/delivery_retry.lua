-- SPDX-License-Identifier: MIT
-- Requeues back-channel deliveries that failed for good (SPEC §6:
-- "--retry requeues"): each goes back to pending, due now, with a fresh
-- budget of max_attempts. The attempts made so far stay in the ledger,
-- renamed o1..oN ("before a requeue"), so a retry never rewrites what an
-- auditor was already shown; delivery_done.lua numbers the new ones t1...
-- A record pending again loses its 7-day expiry (delivery_done.lua sets it
-- anew once done), and the session's ledger set is kept as long.
-- KEYS[1] dq (zset id -> due)  KEYS[2] dfail (zset id -> failed time)
-- ARGV: prefix, now, id...
-- Returns how many were requeued. An id that is not failed (or whose record
-- is gone) is only taken out of dfail.
local p, now = ARGV[1], tonumber(ARGV[2])
local requeued = 0
for i = 3, #ARGV do
    local id = ARGV[i]
    local k = p .. K.dl .. id
    local f = redis.call('HMGET', k, 'st', 'n', 'on', 'sid')
    if f[1] == 'failed' then
        local old = tonumber(f[3] or '0')
        for t = 1, tonumber(f[2] or '0') do
            local v = redis.call('HGET', k, 't' .. t)
            if v then
                old = old + 1
                redis.call('HSET', k, 'o' .. old, v)
                redis.call('HDEL', k, 't' .. t)
            end
        end
        redis.call('HSET', k, 'st', 'pending', 'n', 0, 'on', old)
        redis.call('HDEL', k, 'd')
        redis.call('PERSIST', k)
        if f[4] then
            redis.call('EXPIRE', p .. K.sdl .. f[4], C.LEDGER_TTL_S)
        end
        redis.call('ZADD', KEYS[1], now, id)
        requeued = requeued + 1
    end
    redis.call('ZREM', KEYS[2], id)
end
return requeued
