-- SPDX-License-Identifier: MIT
-- Records one successful assertion as a compare-and-set, so two requests
-- racing with one challenge, or with two assertions of a cloned
-- authenticator, cannot both pass: the challenge is recorded as used (a
-- second use is refused), and the counter moves from the value the
-- signature was checked against to the new one (WebAuthn §6.1.1; an
-- authenticator without a counter sends 0 always).
-- KEYS[1] pk:{sub}, KEYS[2] pkch:{hash}
-- ARGV[1] the credential id, ARGV[2] the counter it was checked against,
-- ARGV[3] the new counter, ARGV[4] the time (unix seconds), kept as the
-- passkey's last use (u:{id})
-- Returns 1 if accepted, 0 if the challenge was used already, -1 if the
-- counter moved meanwhile, -2 if the user has no such passkey.
local c = redis.call('HGET', KEYS[1], 'c:' .. ARGV[1])
if not c then
    return -2
end
if redis.call('EXISTS', KEYS[2]) == 1 then
    return 0
end
if c ~= ARGV[2] then
    return -1
end
redis.call('SET', KEYS[2], '1', 'EX', C.PASSKEY_CHALLENGE_TTL_S)
redis.call('HSET', KEYS[1], 'c:' .. ARGV[1], ARGV[3], 'u:' .. ARGV[1],
           ARGV[4])
return 1
