-- SPDX-License-Identifier: MIT
-- Takes over a logout-all whose process died (or stopped and handed it
-- over): still "running", but no heartbeat for stale_s. Only one instance
-- wins; the sessions still alive are exactly the ones left to end.
-- KEYS[1] lall
-- ARGV: now, stale_s, owner
-- Returns {1, {field, value, ...}} of the run taken over (HGETALL's shape,
-- without its started, updated and owner), or {0}.
local now = tonumber(ARGV[1])
local f = redis.call('HMGET', KEYS[1], 'state', 'updated', 'actor',
                     'reason', 'total', 'ended', 'queued')
if f[1] ~= 'running' or tonumber(f[2] or '0') > now - tonumber(ARGV[2]) then
    return {0}
end
redis.call('HSET', KEYS[1], 'owner', ARGV[3], 'updated', now)
local resumes = redis.call('HINCRBY', KEYS[1], 'resumes', 1)
return {1, {'state', 'running', 'actor', f[3] or '', 'reason', f[4] or '',
            'total', f[5] or '0', 'ended', f[6] or '0', 'queued', f[7] or '0',
            'resumes', tostring(resumes)}}
