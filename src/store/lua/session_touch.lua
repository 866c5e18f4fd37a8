-- SPDX-License-Identifier: MIT
-- Restarts the idle clock of a live session (SPEC §5), never past its
-- absolute expiry, and optionally records an app that took part in it,
-- with the back-channel URI it had then, so ending the session later needs
-- nothing but the session itself.
-- KEYS[1] sess:{sid}  KEYS[2] sexp (zset)
-- ARGV: sid, now, idle_s, absolute_s, client_id or '', back-channel URI
--       or '' (the app takes no notifications)
-- Returns the session's sub, or false if the session does not exist or has
-- expired (the reaper will end it).
local now = tonumber(ARGV[2])
local f = redis.call('HMGET', KEYS[1], 'sub', 'c', 'ls')
if not f[1] then
    return false
end
local created = tonumber(f[2])
local expiry = math.min(tonumber(f[3]) + tonumber(ARGV[3]),
                        created + tonumber(ARGV[4]))
if expiry <= now then
    return false
end
redis.call('HSET', KEYS[1], 'ls', now)
redis.call('ZADD', KEYS[2],
           math.min(now + tonumber(ARGV[3]), created + tonumber(ARGV[4])),
           ARGV[1])
if ARGV[5] ~= '' then
    redis.call('HSET', KEYS[1], 'a:' .. ARGV[5], ARGV[6] or '')
end
return f[1]
