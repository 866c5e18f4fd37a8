-- SPDX-License-Identifier: MIT
-- Creates an IdP session and indexes it by user and by expiry at once, so
-- the reaper can never miss a session that exists. With a limit of
-- sessions per user (session.max_per_user), the same step ends the user's
-- oldest live sessions beyond it (session_finish), so parallel sign-ins of
-- one user never leave more than the limit.
-- KEYS[1] sess:{sid}  KEYS[2] usess:{sub}  KEYS[3] sexp (zset)
-- ARGV: sid, sub, cookie-secret hash, now, idle_s, absolute_s, ip, ua,
-- now_ms (the same instant in milliseconds), prefix, max per user (0:
-- none), the user-agent family, the eviction's reason, notice (1/0: keep
-- the reason for the evicted browser), amr (how the user signed in)
-- Fields: at auth time (seconds, the auth_time claim), am the same in
-- milliseconds (OIDC max_age=0 must not reuse a sign-in of the same
-- second), c created, ls last seen, uf the user-agent family
-- (session.bind), amr the RFC 8176 methods of the sign-in, space-separated
-- ("pwd", "pwd otp").
-- Returns {1, ending...}: one session_finish entry per evicted session.
local now = tonumber(ARGV[4])
local idle = tonumber(ARGV[5])
local abs = tonumber(ARGV[6])
local p, max = ARGV[10], tonumber(ARGV[11])
local result = {1}
if max and max > 0 then
    -- The live sessions, oldest first; a member whose session is gone is
    -- dropped, and one past its expiry is the reaper's, not counted.
    local live = {}
    for _, sid in ipairs(redis.call('SMEMBERS', KEYS[2])) do
        local f = redis.call('HMGET', p .. K.sess .. sid, 'c', 'ls', 'am')
        if not f[1] then
            redis.call('SREM', KEYS[2], sid)
        elseif math.min(tonumber(f[2]) + idle, tonumber(f[1]) + abs) > now then
            live[#live + 1] = {tonumber(f[3]) or tonumber(f[1]) * 1000, sid}
        end
    end
    table.sort(live, function(a, b)
        return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2])
    end)
    for i = 1, #live - max + 1 do
        local sid = live[i][2]
        result[#result + 1] = sid
        result[#result + 1] = session_finish(p, p .. K.sess .. sid, sid,
                                             ARGV[13], now, idle, abs,
                                             'gatehouse', true,
                                             ARGV[14] == '1')
    end
end
redis.call('HSET', KEYS[1], 'sub', ARGV[2], 'k', ARGV[3], 'at', now,
           'am', ARGV[9], 'c', now, 'ls', now, 'ip', ARGV[7], 'ua', ARGV[8],
           'uf', ARGV[12], 'amr', ARGV[15])
-- The key's own TTL is only a safety net; the sexp zset decides expiry.
redis.call('EXPIRE', KEYS[1], abs + C.SESSION_TTL_SLACK_S)
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], math.min(now + idle, now + abs), ARGV[1])
return result
