-- SPDX-License-Identifier: MIT
-- Reserves one sign-in attempt before any hashing (SPEC §7 Lockout): the
-- attempt counts as a failure in every bucket now, and a success gives it
-- back (login_refund.lua). Checking and counting in one step is what makes
-- a burst of parallel guesses wait its turn: at most max_failures of them
-- are ever hashed per window.
-- KEYS: lfail:{who} for each bucket the attempt counts in
-- ARGV[1] max_failures  ARGV[2] lockout_s
-- Returns 0 if reserved in every bucket, else the seconds until the
-- fullest bucket's window ends (nothing was counted then).
local max = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local worst = 0
for _, k in ipairs(KEYS) do
    local n = tonumber(redis.call('GET', k) or '0')
    if n >= max then
        local ttl = redis.call('TTL', k)
        if ttl < 1 then
            -- A counter without a window would lock out for good.
            redis.call('EXPIRE', k, window)
            ttl = window
        end
        if ttl > worst then
            worst = ttl
        end
    end
end
if worst > 0 then
    return worst
end
for _, k in ipairs(KEYS) do
    -- The first failure opens the window; later ones do not extend it, so
    -- a lockout always ends lockout_s after it began.
    if redis.call('INCR', k) == 1 then
        redis.call('EXPIRE', k, window)
    end
end
return 0
