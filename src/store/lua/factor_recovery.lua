-- SPDX-License-Identifier: MIT
-- Replaces the recovery codes of an active TOTP in one step (the user asked
-- for new ones on the account page): the old ones stop working as the new
-- ones start.
-- KEYS[1] fac:{sub}
-- ARGV[1..] the new recovery codes' HMACs (hex)
-- Returns 1 if replaced, 0 if the user has no active TOTP (nothing changes).
if redis.call('HGET', KEYS[1], 't.s') ~= 'active' then
    return 0
end
local old = {}
for _, name in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(name, 1, 2) == 'r:' then
        old[#old + 1] = name
    end
end
if #old > 0 then
    redis.call('HDEL', KEYS[1], unpack(old))
end
local set = {}
for i = 1, #ARGV do
    set[#set + 1] = 'r:' .. ARGV[i]
    set[#set + 1] = '1'
end
if #set > 0 then
    redis.call('HSET', KEYS[1], unpack(set))
end
return 1
