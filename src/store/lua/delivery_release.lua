-- SPDX-License-Identifier: MIT
-- Gives claims back unsent (a server stopping): each delivery still in
-- the queue is due now again instead of when its lease runs out, and the
-- stopping engines' counts of attempts in flight (dinf:{client_id},
-- delivery_claim.lua) go, so a restart may send them at once within each
-- app's cap.
-- KEYS[1] dq
-- ARGV: prefix, now (to the millisecond), then id, client_id, engine per
--       delivery
-- Returns how many were still queued.
local p, now = ARGV[1], ARGV[2]
local n = 0
for i = 3, #ARGV, 3 do
    -- XX: one delivered meanwhile stays gone.
    n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', now, ARGV[i])
    redis.call('HDEL', p .. K.dinf .. ARGV[i + 1], ARGV[i + 2])
end
return n
