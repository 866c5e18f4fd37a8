-- SPDX-License-Identifier: MIT
-- Activates a pending TOTP once a code from it was right, and replaces the
-- recovery codes, in one step: the step of that code becomes the last one
-- accepted (so it cannot be used again), and only the secret the code was
-- checked against is activated (an enrolment restarted meanwhile wins).
-- KEYS[1] fac:{sub}
-- ARGV[1] the sealed secret the code was checked against, ARGV[2] the
-- code's step, ARGV[3] now, ARGV[4..] the recovery codes' HMACs (hex)
-- Returns 1 if activated, 0 if there was no such pending enrolment.
local f = redis.call('HMGET', KEYS[1], 't.s', 't.k')
if f[1] ~= 'pending' or f[2] ~= ARGV[1] then
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
local set = {'t.s', 'active', 't.l', ARGV[2], 't.a', ARGV[3], 'nf', '0'}
for i = 4, #ARGV do
    set[#set + 1] = 'r:' .. ARGV[i]
    set[#set + 1] = '1'
end
redis.call('HSET', KEYS[1], unpack(set))
return 1
