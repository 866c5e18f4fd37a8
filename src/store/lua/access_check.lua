-- SPDX-License-Identifier: MIT
-- Is an access token still good? Not revoked (RFC 7009), and its session,
-- if it has one, alive (SPEC §5). One round trip on the introspection and
-- userinfo hot path instead of two.
-- KEYS[1] revoked:{jti}  KEYS[2] sess:{sid} (or any key when ARGV[1]=='')
-- ARGV: sid or '', now, idle_s, absolute_s
-- Returns 1 good, 0 revoked, -1 session ended or expired.
if redis.call('EXISTS', KEYS[1]) == 1 then
    return 0
end
if ARGV[1] == '' then
    return 1
end
local s = redis.call('HMGET', KEYS[2], 'c', 'ls')
if not s[1] then
    return -1
end
local now = tonumber(ARGV[2])
if tonumber(s[2]) + tonumber(ARGV[3]) <= now or
   tonumber(s[1]) + tonumber(ARGV[4]) <= now then
    return -1
end
return 1
