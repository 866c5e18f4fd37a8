-- SPDX-License-Identifier: MIT
-- Issues a refresh token into a family that belongs to a live session:
-- every refresh token dies with its session (SPEC §5), so none is issued
-- for a session that has already ended.
-- KEYS[1] sess:{sid}  KEYS[2] rt:{hash}  KEYS[3] rtf:{family}
-- KEYS[4] srt:{sid}
-- ARGV: hash, family, sid, client_id, sub, scope, ttl_s
-- Returns 1, or 0 if the session does not exist.
if redis.call('EXISTS', KEYS[1]) == 0 then
    return 0
end
local ttl = tonumber(ARGV[7])
redis.call('HSET', KEYS[2], 'f', ARGV[2], 's', ARGV[3], 'c', ARGV[4],
           'u', ARGV[5], 'sc', ARGV[6], 'x', '0')
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('EXPIRE', KEYS[3], ttl)
redis.call('SADD', KEYS[4], ARGV[2])
redis.call('EXPIRE', KEYS[4], ttl)
return 1
