-- SPDX-License-Identifier: MIT
-- Refresh-token rotation. A spent token presented again means it was
-- stolen (RFC 9700 §4.14.2): the whole family is revoked and the caller
-- ends the session. Keys other than KEYS[1] are derived from the stored
-- token, hence the prefix in ARGV (single Redis, no cluster).
-- KEYS[1] rt:{old hash}
-- ARGV: prefix, new hash, client_id, now, idle_s, absolute_s, ttl_s
-- Returns {'ok', sid, sub, scope, auth_time, user}, {'reuse', sid}, or
-- {'invalid'}, where user is the user:{sub} hash as field/value pairs
-- without the password hash (empty if the user is gone): the grant needs
-- both, and fetching them here saves it two round trips.
local p = ARGV[1]
local t = redis.call('HMGET', KEYS[1], 'f', 's', 'c', 'u', 'sc', 'x')
if not t[1] or t[3] ~= ARGV[3] then
    return {'invalid'}
end
local fam, sid = t[1], t[2]
if t[6] == '1' then
    for _, h in ipairs(redis.call('SMEMBERS', p .. 'rtf:' .. fam)) do
        redis.call('DEL', p .. 'rt:' .. h)
    end
    redis.call('DEL', p .. 'rtf:' .. fam)
    return {'reuse', sid}
end
local sess = p .. 'sess:' .. sid
local now = tonumber(ARGV[4])
local s = redis.call('HMGET', sess, 'c', 'ls', 'at')
if not s[1] then
    redis.call('DEL', KEYS[1])
    return {'invalid'}
end
local created, idle, abs = tonumber(s[1]), tonumber(ARGV[5]), tonumber(ARGV[6])
if math.min(tonumber(s[2]) + idle, created + abs) <= now then
    return {'invalid'}
end
-- The spent token stays, marked, until its TTL: that is how reuse is seen.
redis.call('HSET', KEYS[1], 'x', '1')
local ttl = tonumber(ARGV[7])
local new = p .. 'rt:' .. ARGV[2]
redis.call('HSET', new, 'f', fam, 's', sid, 'c', t[3], 'u', t[4],
           'sc', t[5], 'x', '0')
redis.call('EXPIRE', new, ttl)
redis.call('SADD', p .. 'rtf:' .. fam, ARGV[2])
redis.call('EXPIRE', p .. 'rtf:' .. fam, ttl)
-- SPEC §5: a refresh grant restarts the idle clock.
redis.call('HSET', sess, 'ls', now)
redis.call('ZADD', p .. 'sexp', math.min(now + idle, created + abs), sid)
local user = {}
local u = redis.call('HGETALL', p .. 'user:' .. t[4])
for i = 1, #u, 2 do
    if u[i] ~= 'h' then
        user[#user + 1] = u[i]
        user[#user + 1] = u[i + 1]
    end
end
return {'ok', sid, t[4], t[5], s[3] or '0', user}
