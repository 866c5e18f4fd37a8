-- SPDX-License-Identifier: MIT
-- Spends an authorization code. RFC 6749 §4.1.2: a code is single-use, and
-- a second use should revoke what the first issued, so spending leaves a
-- marker that later names what was issued.
-- KEYS[1] code:{hash}  KEYS[2] codeu:{hash}
-- ARGV: marker TTL (s)
-- Returns {'ok', code JSON}, {'replay', what-was-issued}, or {'invalid'}.
local v = redis.call('GET', KEYS[1])
if v then
    -- The marker first: at maxmemory Redis refuses SET but not DEL, and
    -- lets a script go on writing once it has deleted. A refused redeem
    -- must leave the code as it was, so the client's retry works (SPEC §7).
    redis.call('SET', KEYS[2], '-', 'EX', tonumber(ARGV[1]))
    redis.call('DEL', KEYS[1])
    return {'ok', v}
end
local used = redis.call('GET', KEYS[2])
if used then
    return {'replay', used}
end
return {'invalid'}
