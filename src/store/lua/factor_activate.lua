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
recovery_replace(KEYS[1], 4, {'t.s', 'active', 't.l', ARGV[2], 't.a', ARGV[3],
                             'nf', '0'})
return 1
