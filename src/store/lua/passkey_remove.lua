-- SPDX-License-Identifier: MIT
-- Removes one of a user's passkeys and its owner entry; only the owner's
-- own credential (another user's id changes nothing).
-- KEYS[1] pk:{sub}, KEYS[2] pkid:{credential id}
-- ARGV[1] the credential id
-- Returns 1 if removed, 0 if the user has no such passkey.
if redis.call('HDEL', KEYS[1], 'k:' .. ARGV[1], 'c:' .. ARGV[1],
                'u:' .. ARGV[1]) == 0 then
    return 0
end
redis.call('DEL', KEYS[2])
return 1
