-- SPDX-License-Identifier: MIT
-- The start of a maintenance shutdown, asked by every server's watcher
-- each second: an announced one whose time has come becomes active, and
-- the one caller that claims its sweep (the logout-all that ends every
-- session) gets 1, every other caller 0, so exactly one sweep runs. A
-- claimer that could not start the sweep gives it back (op "release"),
-- and the next tick claims it again. A session that slipped in after the
-- sweep (a sign-in already past the gate) needs another: op "again" takes
-- over the sweep from the previous claimer, the one the caller saw, so
-- again only one caller wins.
-- KEYS[1] maint (hash)
-- ARGV: op (claim|release|again), now, owner, previous owner (again)
-- Returns 1 when claimed (or released), else 0.
local st = redis.call('HGET', KEYS[1], 'st')
if not st then
    return 0
end
if ARGV[1] == 'again' then
    if st == 'active' and redis.call('HGET', KEYS[1], 'swept') == ARGV[4] then
        redis.call('HSET', KEYS[1], 'swept', ARGV[3])
        return 1
    end
    return 0
end
if ARGV[1] == 'release' then
    if redis.call('HGET', KEYS[1], 'swept') == ARGV[3] then
        redis.call('HSET', KEYS[1], 'swept', '')
        return 1
    end
    return 0
end
if st == 'announced' then
    if tonumber(redis.call('HGET', KEYS[1], 'at') or '0') > tonumber(ARGV[2]) then
        return 0
    end
    redis.call('HSET', KEYS[1], 'st', 'active')
end
if (redis.call('HGET', KEYS[1], 'swept') or '') ~= '' then
    return 0
end
redis.call('HSET', KEYS[1], 'swept', ARGV[3])
return 1
