-- SPDX-License-Identifier: MIT
-- The one way a session ends (SPEC §5), whatever the reason. In one atomic
-- step: the session, its refresh tokens and its index entries go, one
-- back-channel delivery is queued per recorded app that has a URI, and the
-- audit log says so. A crash can lose neither the ending nor its
-- notifications, nor queue them twice. Several sessions may end in one
-- call (a logout-all or a reaper pass: a round trip each would cost far
-- more than the work); callers keep batches small so Redis is never held
-- for long. Keys other than KEYS are derived from the session, hence the
-- prefix (single Redis, no cluster).
-- KEYS: sess:{sid} for each sid, in the order of the sids in ARGV
-- ARGV: prefix, reason, now, actor, idle_s, absolute_s, audit (1/0), sid...
--   reason "timeout" means: end it only if it really expired, and say
--   whether idle or absolute. audit 0 leaves each ending out of the audit
--   log: a logout-all audits itself once, and 100,000 records would push
--   everything before the incident out of the capped stream.
-- Returns one entry per sid: {reason, sub, deliveries queued, app...} where
-- each app is "1:client_id" (a delivery was queued) or "0:client_id" (no
-- URI), or 0 if the session had already ended or has not expired (a no-op).
local p, why, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local actor, idle, abs = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local audit = ARGV[7] == '1'

local function finish(key, sid)
    local f = redis.call('HGETALL', key)
    if #f == 0 then
        redis.call('ZREM', p .. K.sexp, sid)
        return 0
    end
    local h = {}
    local apps = {}
    for i = 1, #f, 2 do
        h[f[i]] = f[i + 1]
        if string.sub(f[i], 1, 2) == 'a:' then
            apps[#apps + 1] = {string.sub(f[i], 3), f[i + 1]}
        end
    end
    local reason = why
    if reason == 'timeout' then
        local idle_end = tonumber(h['ls']) + idle
        local abs_end = tonumber(h['c']) + abs
        if math.min(idle_end, abs_end) > now then
            return 0
        end
        reason = abs_end <= idle_end and 'timeout_absolute' or 'timeout_idle'
    end
    local sub = h['sub']
    for _, fam in ipairs(redis.call('SMEMBERS', p .. K.srt .. sid)) do
        for _, t in ipairs(redis.call('SMEMBERS', p .. K.rtf .. fam)) do
            redis.call('DEL', p .. K.rt .. t)
        end
        redis.call('DEL', p .. K.rtf .. fam)
    end
    redis.call('DEL', p .. K.srt .. sid)
    redis.call('DEL', key)
    redis.call('SREM', p .. K.usess .. sub, sid)
    redis.call('ZREM', p .. K.sexp, sid)
    local out = {reason, sub, 0}
    local due, ids = {}, {}
    for _, a in ipairs(apps) do
        out[#out + 1] = (a[2] ~= '' and '1:' or '0:') .. a[1]
        if a[2] ~= '' then
            -- One delivery per app: its id names the session and the app,
            -- so the ledger of a session lists them.
            local id = sid .. ':' .. a[1]
            redis.call('HSET', p .. K.dl .. id, 'sid', sid, 'sub', sub,
                       'cid', a[1], 'uri', a[2], 'st', 'pending', 'n', 0,
                       'c', now, 'r', reason)
            due[#due + 1] = now
            due[#due + 1] = id
            ids[#ids + 1] = id
        end
    end
    -- The queue and the session's ledger take them all at once: a
    -- logout-all ends sessions as fast as Redis runs this script.
    if #ids > 0 then
        redis.call('ZADD', p .. K.dq, unpack(due))
        redis.call('SADD', p .. K.sdl .. sid, unpack(ids))
        redis.call('EXPIRE', p .. K.sdl .. sid, C.LEDGER_TTL_S)
    end
    out[3] = #ids
    if audit then
        redis.call('XADD', p .. K.audit, 'MAXLEN', '~', C.AUDIT_MAX, '*',
                   'action', 'session_end', 'actor', actor, 'target', sid,
                   'sub', sub, 'reason', reason, 'deliveries', #ids)
    end
    return out
end

local result = {}
for i = 1, #KEYS do
    result[i] = finish(KEYS[i], ARGV[7 + i])
end
return result
