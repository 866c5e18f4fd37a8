-- SPDX-License-Identifier: MIT
-- Records a logout-all's progress (its heartbeat), and its state when it
-- changes, but only for the run's owner: a process that was taken for dead
-- and resumed elsewhere learns here that it must stop.
-- KEYS[1] lall
-- ARGV: owner, updated, ended, queued, state ('' = unchanged)
-- Returns 1, or 0 when owner no longer owns the run.
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then
    return 0
end
redis.call('HSET', KEYS[1], 'updated', ARGV[2], 'ended', ARGV[3],
           'queued', ARGV[4])
if ARGV[5] ~= '' then
    redis.call('HSET', KEYS[1], 'state', ARGV[5])
end
return 1
