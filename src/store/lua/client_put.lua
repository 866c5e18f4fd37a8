-- SPDX-License-Identifier: MIT
-- Stores a client registered at run time and indexes its allowed_origins,
-- together: a CORS preflight names no client, so it asks the index, and the
-- index must not miss an origin a stored client allows (clients registered
-- at run time are never changed or deleted, so it only grows with them).
-- KEYS[1] client:{client_id}  KEYS[2] corig (set)
-- ARGV[1] the client's metadata, JSON as client_to_json writes it
-- Returns 1.
local meta = cjson.decode(ARGV[1])
redis.call('SET', KEYS[1], ARGV[1])
if type(meta.allowed_origins) == 'table' then
    for _, o in ipairs(meta.allowed_origins) do
        redis.call('SADD', KEYS[2], o)
    end
end
return 1
