-- SPDX-License-Identifier: MIT
-- Refresh-token rotation. A spent token presented again means it was
-- stolen (RFC 9700 §4.14.2): the whole family is revoked and the caller
-- ends the session. Keys other than KEYS[1] are derived from the stored
-- token, hence the prefix in ARGV (single Redis, no cluster).
-- KEYS[1] rt:{old hash}
-- ARGV: prefix, new hash, client_id, now, idle_s, absolute_s, ttl_s,
--       grace_s, the new token sealed under the old one
-- Returns {'ok', sid, sub, scope, auth_time, user, amr},
-- {'grace', sid, sub, scope, auth_time, user, amr, head hash, sealed...},
-- {'reuse', sid}, or {'invalid'}, where user is the user:{sub} hash as
-- field/value pairs without the password hash (empty if the user is
-- gone): the grant needs both, and fetching them here saves it two round
-- trips.
--
-- SPEC §5 grace: within grace_s of its rotation, the client that rotated
-- a token may present it again (parallel refreshes, a lost response). It
-- gets the family's current head, found by following the successors
-- ('nh') from the spent token; 'n' is each successor sealed under its
-- predecessor, which only the caller who holds the first token can open.
-- The spent record keeps them: 'r' is when it was rotated.
local p = ARGV[1]
local t = redis.call('HMGET', KEYS[1], 'f', 's', 'c', 'u', 'sc', 'x', 'r',
                     'n', 'nh')
if not t[1] or t[3] ~= ARGV[3] then
    return {'invalid'}
end
local fam, sid = t[1], t[2]
local now, grace = tonumber(ARGV[4]), tonumber(ARGV[8])

-- The sealed successors from t to the live head, and the head's hash, or
-- nil when the grace does not apply. A rotation's own second counts
-- whole, so the window is at least grace_s long. Honest refreshers do not
-- rotate a family MAX_HOPS times within one grace: a longer chain is
-- treated as reuse.
local MAX_HOPS = 16
local function successors()
    if grace <= 0 or not t[7] or not t[8] or now > tonumber(t[7]) + grace then
        return nil
    end
    local sealed, h = {t[8]}, t[9]
    for _ = 1, MAX_HOPS do
        local s = redis.call('HMGET', p .. K.rt .. h, 'x', 'n', 'nh', 'f')
        if s[4] ~= fam then
            return nil
        end
        if s[1] == '0' then
            return sealed, h
        end
        if not s[2] then
            return nil
        end
        sealed[#sealed + 1] = s[2]
        h = s[3]
    end
    return nil
end

local sealed, head
if t[6] == '1' then
    sealed, head = successors()
    if not sealed then
        for _, h in ipairs(redis.call('SMEMBERS', p .. K.rtf .. fam)) do
            redis.call('DEL', p .. K.rt .. h)
        end
        redis.call('DEL', p .. K.rtf .. fam)
        return {'reuse', sid}
    end
end
local sess = p .. K.sess .. sid
local s = redis.call('HMGET', sess, 'c', 'ls', 'at', 'amr')
if not s[1] then
    redis.call('DEL', KEYS[1])
    return {'invalid'}
end
local created, idle, abs = tonumber(s[1]), tonumber(ARGV[5]), tonumber(ARGV[6])
if math.min(tonumber(s[2]) + idle, created + abs) <= now then
    return {'invalid'}
end
if not sealed then
    -- The spent token stays, marked, until its TTL: that is how reuse is
    -- seen.
    redis.call('HSET', KEYS[1], 'x', '1', 'r', ARGV[4], 'n', ARGV[9],
               'nh', ARGV[2])
    local ttl = tonumber(ARGV[7])
    local new = p .. K.rt .. ARGV[2]
    redis.call('HSET', new, 'f', fam, 's', sid, 'c', t[3], 'u', t[4],
               'sc', t[5], 'x', '0')
    redis.call('EXPIRE', new, ttl)
    redis.call('SADD', p .. K.rtf .. fam, ARGV[2])
    redis.call('EXPIRE', p .. K.rtf .. fam, ttl)
end
-- SPEC §5: a refresh grant restarts the idle clock.
redis.call('HSET', sess, 'ls', now)
redis.call('ZADD', p .. K.sexp, math.min(now + idle, created + abs), sid)
local user = {}
local u = redis.call('HGETALL', p .. K.user .. t[4])
for i = 1, #u, 2 do
    if u[i] ~= 'h' then
        user[#user + 1] = u[i]
        user[#user + 1] = u[i + 1]
    end
end
if not sealed then
    return {'ok', sid, t[4], t[5], s[3] or '0', user, s[4] or ''}
end
local r = {'grace', sid, t[4], t[5], s[3] or '0', user, s[4] or '', head}
for _, v in ipairs(sealed) do
    r[#r + 1] = v
end
return r
