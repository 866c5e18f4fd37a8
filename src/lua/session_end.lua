-- SPDX-License-Identifier: MIT
-- The one way a session ends (SPEC §5), whatever the reason: the session,
-- its refresh tokens and its index entries go in one atomic step. Keys
-- other than KEYS[1] are derived from the session, hence the prefix.
-- KEYS[1] sess:{sid}
-- ARGV: prefix, sid, reason, now
-- Returns {sub, client_id...} of the apps recorded on it, or false if the
-- session had already ended (a no-op).
local p, sid = ARGV[1], ARGV[2]
local f = redis.call('HGETALL', KEYS[1])
if #f == 0 then
    redis.call('ZREM', p .. 'sexp', sid)
    return false
end
local sub
local out = {}
for i = 1, #f, 2 do
    if f[i] == 'sub' then
        sub = f[i + 1]
    elseif string.sub(f[i], 1, 2) == 'a:' then
        out[#out + 1] = string.sub(f[i], 3)
    end
end
for _, fam in ipairs(redis.call('SMEMBERS', p .. 'srt:' .. sid)) do
    for _, h in ipairs(redis.call('SMEMBERS', p .. 'rtf:' .. fam)) do
        redis.call('DEL', p .. 'rt:' .. h)
    end
    redis.call('DEL', p .. 'rtf:' .. fam)
end
redis.call('DEL', p .. 'srt:' .. sid)
redis.call('DEL', KEYS[1])
redis.call('SREM', p .. 'usess:' .. sub, sid)
redis.call('ZREM', p .. 'sexp', sid)
table.insert(out, 1, sub)
return out
