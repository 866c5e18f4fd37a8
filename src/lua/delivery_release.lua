-- SPDX-License-Identifier: MIT
-- Gives claims back unsent (a server stopping): each delivery still in
-- the queue is due now again instead of when its lease runs out, and its
-- app's in-flight lease (dinf:{client_id}, delivery_claim.lua) ends, so
-- the restart may send it at once within the app's cap.
-- KEYS[1] dq
-- ARGV: prefix, now (to the millisecond), then id, client_id per delivery
-- Returns how many were still queued.
local p, now = ARGV[1], ARGV[2]
local n = 0
for i = 3, #ARGV, 2 do
    -- XX: one delivered meanwhile stays gone.
    n = n + redis.call('ZADD', KEYS[1], 'XX', 'CH', now, ARGV[i])
    redis.call('ZREM', p .. 'dinf:' .. ARGV[i + 1], ARGV[i])
end
return n
