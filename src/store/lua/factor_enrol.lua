-- SPDX-License-Identifier: MIT
-- Starts (or restarts) a TOTP enrolment: the sealed secret is kept as
-- pending until a code from it activates it. An active TOTP is never
-- replaced here: it is reset first (an administrator, or the user after a
-- step-up), so a stolen session cannot swap the user's authenticator.
-- KEYS[1] fac:{sub}
-- ARGV[1] the secret sealed for sub (factor_secret.c), ARGV[2] now
-- Returns 1 if pending now, 0 if an active TOTP is there.
if redis.call('HGET', KEYS[1], 't.s') == 'active' then
    return 0
end
redis.call('HDEL', KEYS[1], 't.l', 't.a')
redis.call('HSET', KEYS[1], 't.s', 'pending', 't.k', ARGV[1], 't.c', ARGV[2])
return 1
