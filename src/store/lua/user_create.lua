-- SPDX-License-Identifier: MIT
-- Creates a user only if the username is free: the name index and the user
-- hash change together or not at all.
-- KEYS[1] uname:{lower-username}  KEYS[2] user:{sub}  KEYS[3] users (zset)
-- ARGV: sub, username, email, name, password hash, now, then field/value
-- pairs of the optional fields that are set (gn, fn, lc, zi, ev)
-- Returns 1 if created, 0 if the username is taken.
if redis.call('EXISTS', KEYS[1]) == 1 then
    return 0
end
local fields = {'u', ARGV[2], 'e', ARGV[3], 'n', ARGV[4], 'h', ARGV[5],
                'd', '0', 'c', ARGV[6], 'm', ARGV[6]}
for i = 7, #ARGV do
    fields[#fields + 1] = ARGV[i]
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], unpack(fields))
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
return 1
