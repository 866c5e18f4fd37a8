-- SPDX-License-Identifier: MIT
-- Creates an IdP session and indexes it by user and by expiry at once, so
-- the reaper can never miss a session that exists.
-- KEYS[1] sess:{sid}  KEYS[2] usess:{sub}  KEYS[3] sexp (zset)
-- ARGV: sid, sub, cookie-secret hash, now, idle_s, absolute_s, ip, ua,
-- now_ms (the same instant in milliseconds)
-- Fields: at auth time (seconds, the auth_time claim), am the same in
-- milliseconds (OIDC max_age=0 must not reuse a sign-in of the same
-- second), c created, ls last seen.
local now = tonumber(ARGV[4])
local idle = tonumber(ARGV[5])
local abs = tonumber(ARGV[6])
redis.call('HSET', KEYS[1], 'sub', ARGV[2], 'k', ARGV[3], 'at', now,
           'am', ARGV[9], 'c', now, 'ls', now, 'ip', ARGV[7], 'ua', ARGV[8])
-- The key's own TTL is only a safety net; the sexp zset decides expiry.
redis.call('EXPIRE', KEYS[1], abs + C.SESSION_TTL_SLACK_S)
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], math.min(now + idle, now + abs), ARGV[1])
return 1
