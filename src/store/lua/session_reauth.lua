-- SPDX-License-Identifier: MIT
-- A step-up (SPEC §7): the user of a live session typed the password
-- again, so the session's authentication time is now. Only a session that
-- still exists is changed; an HSET alone would bring an ended one back as
-- a husk with nothing but a time.
-- KEYS[1] sess:{sid}
-- ARGV: now (seconds), now (milliseconds)
-- Returns 1 if the session was changed, 0 if it does not exist.
if redis.call('EXISTS', KEYS[1]) == 0 then
    return 0
end
redis.call('HSET', KEYS[1], 'at', ARGV[1], 'am', ARGV[2])
return 1
