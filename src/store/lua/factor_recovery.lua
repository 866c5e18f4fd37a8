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
recovery_replace(KEYS[1], 1)
return 1
