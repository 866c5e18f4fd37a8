-- SPDX-License-Identifier: MIT
-- Functions more than one script needs. This file is no script: embed.py
-- puts each function a script calls into that script's one-line prelude,
-- so a function here starts "local function NAME(" and ends "end", both
-- at the start of a line, and a comment here is dropped.

-- The names of the fields of the hash key that start with prefix.
local function fields_named(key, prefix)
    local names = {}
    for _, name in ipairs(redis.call('HKEYS', key)) do
        if string.sub(name, 1, #prefix) == prefix then
            names[#names + 1] = name
        end
    end
    return names
end

-- cmd(key, list...) in slices of 1,000 (an even count, so score/member
-- pairs stay whole): Lua's unpack takes only so many values at once.
local function each_slice(cmd, key, list)
    for i = 1, #list, 1000 do
        redis.call(cmd, key, unpack(list, i, math.min(i + 999, #list)))
    end
end

-- Ends one session (session_end.lua's work, and session_create.lua's when
-- it evicts): the session, its refresh tokens and index entries go, one
-- back-channel delivery is queued per recorded app that has a URI, the
-- audit log says so if audit, and if notice the reason is kept for the
-- browser (ended:{sid}). key is sess:{sid}; why "timeout" ends it only if
-- it expired. Returns {reason, sub, deliveries queued, app...} (each app
-- "1:client_id" or "0:client_id"), or 0 if there was nothing to end.
local function session_finish(p, key, sid, why, now, idle, abs, actor, audit, notice)
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
            local id = sid .. ':' .. a[1]
            redis.call('HSET', p .. K.dl .. id, 'sid', sid, 'sub', sub,
                       'cid', a[1], 'uri', a[2], 'st', 'pending', 'n', 0,
                       'c', now, 'r', reason)
            due[#due + 1] = now
            due[#due + 1] = id
            ids[#ids + 1] = id
        end
    end
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
    if notice and h['k'] then
        redis.call('HSET', p .. K.ended .. sid, 'r', reason, 'k', h['k'])
        redis.call('EXPIRE', p .. K.ended .. sid, C.ENDED_NOTICE_TTL_S)
    end
    return out
end

-- Replaces a user's recovery codes (factor_activate.lua and
-- factor_recovery.lua): every r:{hmac} field of key goes, and one per
-- HMAC of ARGV from index first on comes, so the old codes stop working
-- as the new ones start; also (a name, value, ... list, or nil) is set in
-- the same HSET.
local function recovery_replace(key, first, also)
    local old = fields_named(key, 'r:')
    if #old > 0 then
        redis.call('HDEL', key, unpack(old))
    end
    local set = also or {}
    for i = first, #ARGV do
        set[#set + 1] = 'r:' .. ARGV[i]
        set[#set + 1] = '1'
    end
    if #set > 0 then
        redis.call('HSET', key, unpack(set))
    end
end
