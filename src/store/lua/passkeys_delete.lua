-- SPDX-License-Identifier: MIT
-- Removes every passkey of a user and each one's owner entry (an
-- administrator's reset of the user's factors).
-- KEYS[1] pk:{sub}
-- ARGV[1] the key prefix
-- Returns how many passkeys there were.
local p = ARGV[1]
local n = 0
for _, name in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(name, 1, 2) == 'k:' then
        redis.call('DEL', p .. K.pkid .. string.sub(name, 3))
        n = n + 1
    end
end
redis.call('DEL', KEYS[1])
return n
