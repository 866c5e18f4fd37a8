-- SPDX-License-Identifier: MIT
-- Begins a logout-all (POST /admin/logout-all, gatehouse logout --all)
-- unless one is running: one at a time across every instance and the CLI,
-- since two would only race each other through the same sessions. The run
-- belongs to owner, whose heartbeat is "updated"; a run whose heartbeat is
-- older than stale_s has lost its process and is resumed by any instance
-- (logout_all_resume.lua), or replaced here.
-- KEYS[1] lall (hash: the progress of the last run)
-- ARGV: now, stale_s, actor, reason, total, owner
-- Returns {1} when begun, or {0, {field, value, ...}} of the run in the
-- way (HGETALL's shape, without its reason and owner).
local now = tonumber(ARGV[1])
local f = redis.call('HMGET', KEYS[1], 'state', 'updated', 'actor',
                     'started', 'total', 'ended', 'queued', 'resumes')
if f[1] == 'running' and tonumber(f[2] or '0') > now - tonumber(ARGV[2]) then
    return {0, {'state', 'running', 'actor', f[3] or '',
                'started', f[4] or '0', 'total', f[5] or '0',
                'ended', f[6] or '0', 'queued', f[7] or '0',
                'updated', f[2] or '0', 'resumes', f[8] or '0'}}
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'running', 'actor', ARGV[3],
           'reason', ARGV[4], 'started', now, 'updated', now,
           'total', ARGV[5], 'ended', 0, 'queued', 0, 'owner', ARGV[6],
           'resumes', 0)
return {1}
