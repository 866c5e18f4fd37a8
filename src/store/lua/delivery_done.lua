-- SPDX-License-Identifier: MIT
-- Records delivery attempts, a batch at a time (a logout-all finishes
-- thousands a second; one round trip each would be the bottleneck), and
-- decides what comes next for each: delivered, retried at next_due, or
-- failed after max attempts (SPEC §6). The ledger of attempts stays on the
-- delivery's hash for 7 days.
--
-- Each batch also sets the engine's count of attempts in flight to each
-- app (dinf:{client_id}, see delivery_claim.lua) and moves the app's circuit (SPEC §6: an app failing
-- again and again is backed off). In dcb, per app: f:{cid} failures in a
-- row, o:{cid} when the circuit lets a trial through (0: closed), k:{cid}
-- how many trials failed in a row. An app that is down (no answer in time,
-- refused, 5xx) FAILURES times in a row is not attempted for 1 s, then one
-- trial; each failed trial doubles the wait, up to 60 s; any answer that
-- is not a 5xx closes the circuit. Its deliveries wait in the meantime:
-- they are neither dropped nor charged an attempt.
-- KEYS[1] dq  KEYS[2] dfail (zset id -> failed time)  KEYS[3] dcb
-- ARGV: prefix, now, max_attempts, now to the millisecond, engine, lease_s,
--       then nine per attempt: id, outcome text, delivered (1/0), next_due
--       (epoch seconds to the millisecond: a retry 1 s ±20% later must not
--       round to whole seconds), token, token_exp, client_id, down (1: no
--       answer or 5xx), and how many attempts to that app the engine still
--       has in flight after this batch
-- Returns two integers per attempt: 1 delivered, 2 failed for good, 0 to
-- be retried, -1 unknown id; then what its app's circuit did: 0 nothing,
-- -1 closed, n > 0 opened for n ms. A delivery that fails for good is also
-- written to the audit stream (SPEC §6), in the same step: an app that
-- never heard of a sign-out is something an auditor must find.
local p, now, max = ARGV[1], ARGV[2], tonumber(ARGV[3])
local now_ms = tonumber(ARGV[4])
local engine, until_ = ARGV[5], now_ms + tonumber(ARGV[6])
local FAILURES, OPEN_S, OPEN_MAX_S = 5, 1, 60

-- Each app's circuit, read once per batch and written back if changed.
local apps = {}
local function app(cid)
    local a = apps[cid]
    if not a then
        local v = redis.call('HMGET', KEYS[3], 'f:' .. cid, 'o:' .. cid,
                             'k:' .. cid)
        a = {f = tonumber(v[1] or '0'), o = tonumber(v[2] or '0'),
             k = tonumber(v[3] or '0'), left = 0, dirty = false}
        apps[cid] = a
    end
    return a
end
-- The circuit after one attempt of its app; returns the event.
local function circuit(a, down)
    if down ~= '1' then
        if a.f == 0 and a.o == 0 then
            return 0
        end
        local was_open = a.o > 0
        a.f, a.o, a.k, a.dirty = 0, 0, 0, true
        return was_open and -1 or 0
    end
    a.f, a.dirty = a.f + 1, true
    if a.o == 0 and a.f >= FAILURES then
        a.k, a.o = 0, now_ms + OPEN_S
        return OPEN_S * 1000
    elseif a.o > 0 and a.o <= now_ms then
        -- A trial (or an attempt begun before the circuit opened) failed
        -- once the circuit was half-open: back off longer.
        a.k = a.k + 1
        local s = math.min(OPEN_S * 2 ^ a.k, OPEN_MAX_S)
        a.o = now_ms + s
        return s * 1000
    end
    return 0
end

local out, done, failed = {}, {}, {}
for i = 7, #ARGV, 9 do
    local id, outcome, delivered = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    local a = app(ARGV[i + 6])
    a.left = tonumber(ARGV[i + 8])
    local k = p .. K.dl .. id
    if redis.call('EXISTS', k) == 0 then
        done[#done + 1] = id
        out[#out + 1] = -1
        out[#out + 1] = circuit(a, ARGV[i + 7])
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
                redis.call('XADD', p .. K.audit, 'MAXLEN', '~', C.AUDIT_MAX,
                           '*', 'action', 'delivery_failed',
                           'actor', 'gatehouse', 'target', id,
                           'sub', f[1] or '', 'reason',
                           n .. ' attempts, last: ' .. outcome,
                           'outcome', 'failed')
            end
            -- A pending delivery never expires; a finished one's ledger
            -- stays 7 days.
            redis.call('EXPIRE', k, C.LEDGER_TTL_S)
            out[#out + 1] = st == 'delivered' and 1 or 2
            out[#out + 1] = circuit(a, ARGV[i + 7])
        else
            -- The next attempt reuses this token while it is fresh enough.
            redis.call('HSET', k, attempt, now .. ' ' .. outcome,
                       'tok', ARGV[i + 4], 'tx', ARGV[i + 5])
            redis.call('ZADD', KEYS[1], tonumber(ARGV[i + 3]), id)
            out[#out + 1] = 0
            out[#out + 1] = circuit(a, ARGV[i + 7])
        end
    end
end
-- Off the queue in one command for the batch, not one per delivery.
each_slice('ZREM', KEYS[1], done)
each_slice('ZADD', KEYS[2], failed)
for cid, a in pairs(apps) do
    if a.left > 0 then
        redis.call('HSET', p .. K.dinf .. cid, engine, a.left .. ' ' .. until_)
    else
        redis.call('HDEL', p .. K.dinf .. cid, engine)
    end
    if a.dirty then
        redis.call('HSET', KEYS[3], 'f:' .. cid, a.f, 'o:' .. cid, a.o,
                   'k:' .. cid, a.k)
    end
end
return out
