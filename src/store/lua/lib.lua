-- SPDX-License-Identifier: MIT
-- Functions more than one script needs. This file is no script: embed.py
-- puts each function a script calls into that script's one-line prelude,
-- so a function here starts "local function NAME(" and ends "end", both
-- at the start of a line, and a comment here is dropped.

-- cmd(key, list...) in slices of 1,000 (an even count, so score/member
-- pairs stay whole): Lua's unpack takes only so many values at once.
local function each_slice(cmd, key, list)
    for i = 1, #list, 1000 do
        redis.call(cmd, key, unpack(list, i, math.min(i + 999, #list)))
    end
end
