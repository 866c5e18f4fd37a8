-- SPDX-License-Identifier: MIT
-- Starts (or replaces) the maintenance shutdown (SPEC §5): a fresh record,
-- so the sweep of an earlier one is not taken for this one's. Announced
-- until at; maintenance_claim.lua makes it active once at has passed.
-- KEYS[1] maint (hash)
-- ARGV: state (announced|active), message, at, actor, now
-- Returns 1.
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'st', ARGV[1], 'msg', ARGV[2], 'at', ARGV[3],
           'by', ARGV[4], 'set', ARGV[5], 'swept', '')
return 1
