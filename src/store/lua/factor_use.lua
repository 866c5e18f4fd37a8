-- SPDX-License-Identifier: MIT
-- Records one second-factor attempt of a user with an active factor, as a
-- compare-and-set, so two requests racing with one code cannot both pass:
--   totp: the code's step is accepted only if later than the last one
--         accepted (RFC 6238 §5.2: a code is accepted once; an earlier
--         step is as stale as the same one), and only for the secret it
--         was checked against;
--   recovery: the code's HMAC field is removed; only the request that
--         removed it passes (each code works once);
--   fail: a wrong code.
-- Every refusal adds one to nf (failures in a row), every success clears
-- it, for the sign-in's lockout.
-- KEYS[1] fac:{sub}
-- ARGV[1] 'totp' | 'recovery' | 'fail'; for totp ARGV[2] the sealed
-- secret, ARGV[3] the step; for recovery ARGV[2] the code's HMAC (hex)
-- Returns {1, recovery codes left} if accepted, {0, failures in a row} if
-- refused, {-1, 0} if the user has no active factor (nothing changed).
local f = redis.call('HMGET', KEYS[1], 't.s', 't.k', 't.l')
if f[1] ~= 'active' then
    return {-1, 0}
end
local ok = false
if ARGV[1] == 'totp' then
    if f[2] ~= ARGV[2] then
        return {-1, 0}
    end
    if tonumber(ARGV[3]) > tonumber(f[3] or '-1') then
        redis.call('HSET', KEYS[1], 't.l', ARGV[3])
        ok = true
    end
elseif ARGV[1] == 'recovery' then
    ok = redis.call('HDEL', KEYS[1], 'r:' .. ARGV[2]) == 1
end
if ok then
    redis.call('HSET', KEYS[1], 'nf', '0')
    return {1, #fields_named(KEYS[1], 'r:')}
end
return {0, redis.call('HINCRBY', KEYS[1], 'nf', 1)}
