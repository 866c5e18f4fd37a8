-- SPDX-License-Identifier: MIT
-- Claims back-channel deliveries that are due, fairly between apps (SPEC
-- §6). A claim is a lease: the delivery's time in the queue moves to now +
-- lease, so if this instance dies mid-delivery another claims it when the
-- lease runs out (at-least-once; each attempt's token has its own jti so
-- apps drop duplicates).
--
-- Fairness: an app has at most per_app attempts in flight, across every
-- instance (dinf:{client_id}: each engine's count of attempts to it, as
-- "count lease_end", rewritten whole by every claim and outcome of that
-- engine, so a dead instance's counts stop counting when their lease runs
-- out, and a lost update heals at the next), and none while its
-- circuit is open (dcb, kept by delivery_done.lua); once the circuit's
-- time is up, one trial at a time. A due delivery of an app that can take
-- no more is parked (dq -> dpark:{client_id}, due time kept), not dropped
-- nor counted as an attempt: it leaves the due range, so a flood of one
-- app's deliveries is stepped over once, not on every claim, and other
-- apps' deliveries go out in the same call. Parked deliveries come first
-- as soon as their app has room again, oldest first.
--
-- KEYS[1] dq (zset id -> due time, epoch seconds to the millisecond)
-- KEYS[2] dparked (set of client_ids with parked deliveries)
-- KEYS[3] dcb (hash: the circuit of each app)
-- ARGV: prefix, now (to the millisecond), lease_s, max, per_app, engine,
--       then client_id, count for each app this engine has attempts to
-- Returns {id, client_id, uri, sid, sub, attempts, token, token_exp, trial,
-- ...}: nine fields per delivery; trial is 1 for the one attempt a circuit
-- that was open lets through.
local p = ARGV[1]
local now = tonumber(ARGV[2])
local until_ = now + tonumber(ARGV[3])
local max, per_app = tonumber(ARGV[4]), tonumber(ARGV[5])
local engine = ARGV[6]
local mine = {}
for i = 7, #ARGV, 2 do
    mine[ARGV[i]] = tonumber(ARGV[i + 1])
end
-- How far into the due range one call looks: each parked delivery leaves
-- it, so the next call looks further.
local scan = 4 * max + 100


-- What an app can take now: attempts left under its cap, and whether the
-- next is a circuit's trial. Read once per app per call.
local apps = {}
local function app(cid)
    local a = apps[cid]
    if a then
        return a
    end
    local inf = p .. K.dinf .. cid
    local counts = redis.call('HGETALL', inf)
    -- This engine's own count is what it says, not what Redis last heard:
    -- an outcome that was never recorded must not hold a slot forever.
    local n, listed = mine[cid] or 0, false
    for i = 1, #counts, 2 do
        local c, lease_end = string.match(counts[i + 1], '^(%d+) (.+)$')
        if counts[i] == engine then
            listed = true
        elseif c and tonumber(lease_end) > now then
            n = n + tonumber(c)
        else
            redis.call('HDEL', inf, counts[i])
        end
    end
    local o = tonumber(redis.call('HGET', KEYS[3], 'o:' .. cid) or '0')
    a = {left = per_app - n, trial = false, claimed = 0, parked = {},
         listed = listed}
    if o > now then
        a.left = 0
    elseif o > 0 then
        -- Half-open: one trial, and only once nothing else is in flight.
        a.trial = n == 0
        a.left = a.trial and 1 or 0
    end
    apps[cid] = a
    return a
end

local out, lease, gone, unqueue = {}, {}, {}, {}
local count = 0
local function take(id, d, a)
    lease[#lease + 1] = until_
    lease[#lease + 1] = id
    a.claimed = a.claimed + 1
    a.left = a.left - 1
    out[#out + 1] = id
    for i = 1, 7 do
        out[#out + 1] = d[i] or ''
    end
    out[#out + 1] = a.trial and 1 or 0
    a.trial = false
    count = count + 1
end
local function record(id)
    return redis.call('HMGET', p .. K.dl .. id, 'cid', 'uri', 'sid', 'sub',
                      'n', 'tok', 'tx')
end

-- Parked deliveries first: they were due before anything still in dq.
for _, cid in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if count >= max then
        break
    end
    local a = app(cid)
    if a.left > 0 then
        local pk = p .. K.dpark .. cid
        local ids = redis.call('ZRANGE', pk, 0,
                               math.min(a.left, max - count) - 1)
        for _, id in ipairs(ids) do
            local d = record(id)
            if d[1] then
                take(id, d, a)
            end
        end
        if #ids > 0 then
            redis.call('ZREM', pk, unpack(ids))
        end
        if redis.call('EXISTS', pk) == 0 then
            redis.call('SREM', KEYS[2], cid)
        end
    end
end

local offset, scanned = 0, 0
while count < max and scanned < scan do
    local want = math.min(max - count, scan - scanned)
    local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now,
                           'WITHSCORES', 'LIMIT', offset, want)
    for i = 1, #due, 2 do
        local id = due[i]
        local d = record(id)
        scanned = scanned + 1
        if not d[1] then
            -- Its record is gone (expired ledger): nothing left to deliver.
            gone[#gone + 1] = id
        else
            local a = app(d[1])
            if a.left > 0 then
                take(id, d, a)
            else
                a.parked[#a.parked + 1] = due[i + 1]
                a.parked[#a.parked + 1] = id
                unqueue[#unqueue + 1] = id
            end
        end
        if count >= max then
            break
        end
    end
    -- Nothing is moved until the end, so the offset still counts from the
    -- start of the due range.
    offset = offset + #due / 2
    if #due / 2 < want then
        break
    end
end

-- One command per key for the whole batch, not one per delivery: a
-- logout-all claims thousands a second.
each_slice('ZADD', KEYS[1], lease)
each_slice('ZREM', KEYS[1], gone)
each_slice('ZREM', KEYS[1], unqueue)
for cid, a in pairs(apps) do
    local n = (mine[cid] or 0) + a.claimed
    if n > 0 and (a.claimed > 0 or a.listed) then
        redis.call('HSET', p .. K.dinf .. cid, engine, n .. ' ' .. until_)
    elseif a.listed then
        redis.call('HDEL', p .. K.dinf .. cid, engine)
    end
    if #a.parked > 0 then
        each_slice('ZADD', p .. K.dpark .. cid, a.parked)
        redis.call('SADD', KEYS[2], cid)
    end
end
return out
