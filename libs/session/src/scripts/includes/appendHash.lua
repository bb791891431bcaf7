-- Appends a hash's fields and values to a reply table one by one: `unpack` of a large table
-- passes Lua's limit of ~8,000 results, so no reply is ever built with it.
local function appendHash(reply, key)
  local flat = redis.call('HGETALL', key)
  local n = #reply
  for i = 1, #flat do
    reply[n + i] = flat[i]
  end
  return reply
end
