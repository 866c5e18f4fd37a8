-- SPDX-License-Identifier: MIT
-- Registers a passkey for a user, once per challenge and once per
-- credential id (a credential belongs to one user), within PASSKEYS_MAX.
-- KEYS[1] pk:{sub}, KEYS[2] pkid:{credential id}, KEYS[3] pkch:{hash}
-- ARGV[1] the credential id, ARGV[2] the record ("alg created key name"),
-- ARGV[3] the sign counter, ARGV[4] sub
-- Returns 1 if added, 0 if the challenge was used already, -1 if the
-- credential is registered already, -2 if the user has PASSKEYS_MAX.
if redis.call('EXISTS', KEYS[3]) == 1 then
    return 0
end
if redis.call('EXISTS', KEYS[2]) == 1 then
    return -1
end
if #fields_named(KEYS[1], 'k:') >= C.PASSKEYS_MAX then
    return -2
end
redis.call('SET', KEYS[3], '1', 'EX', C.PASSKEY_CHALLENGE_TTL_S)
redis.call('SET', KEYS[2], ARGV[4])
redis.call('HSET', KEYS[1], 'k:' .. ARGV[1], ARGV[2], 'c:' .. ARGV[1], ARGV[3])
return 1
