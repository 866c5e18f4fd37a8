-- SPDX-License-Identifier: MIT
-- Gives back the attempt login_reserve.lua counted, after the password was
-- right. The first ARGV[1] buckets (the user's, or the device's) are
-- cleared: a success ends the run of failures there. The others (the
-- address) only lose this attempt: other people's failures there stay.
-- KEYS: the buckets the attempt was reserved in, in the same order
-- ARGV[1] how many of them, from the first, to clear
local clear = tonumber(ARGV[1])
for i, k in ipairs(KEYS) do
    if i <= clear then
        redis.call('DEL', k)
    else
        local n = tonumber(redis.call('GET', k) or '0')
        if n > 1 then
            redis.call('DECR', k)
        elseif n == 1 then
            redis.call('DEL', k)
        end
    end
end
return 0
