-- SPDX-License-Identifier: MIT
-- The one way a session ends (SPEC §5), whatever the reason. In one atomic
-- step: the session, its refresh tokens and its index entries go, one
-- back-channel delivery is queued per recorded app that has a URI, and the
-- audit log says so (session_finish in lib.lua). A crash can lose neither
-- the ending nor its notifications, nor queue them twice. Several sessions
-- may end in one call (a logout-all or a reaper pass: a round trip each
-- would cost far more than the work); callers keep batches small so Redis
-- is never held for long. Keys other than KEYS are derived from the
-- session, hence the prefix (single Redis, no cluster).
-- KEYS: sess:{sid} for each sid, in the order of the sids in ARGV
-- ARGV: prefix, reason, now, actor, idle_s, absolute_s, audit (1/0),
--   notice (1/0), sid...
--   reason "timeout" means: end it only if it really expired, and say
--   whether idle or absolute. audit 0 leaves each ending out of the audit
--   log: a logout-all audits itself once, and 100,000 records would push
--   everything before the incident out of the capped stream. notice 1
--   keeps the reason for the browser of each session (ended:{sid}).
-- Returns one entry per sid: {reason, sub, deliveries queued, app...} where
-- each app is "1:client_id" (a delivery was queued) or "0:client_id" (no
-- URI), or 0 if the session had already ended or has not expired (a no-op).
local p, why, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local actor, idle, abs = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local audit, notice = ARGV[7] == '1', ARGV[8] == '1'

local result = {}
for i = 1, #KEYS do
    result[i] = session_finish(p, KEYS[i], ARGV[8 + i], why, now, idle, abs,
                               actor, audit, notice)
end
return result
