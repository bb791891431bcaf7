-- Reads a session hash into a table (nil when the key does not exist), keeping the flat reply too.
local function readSession(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then
    return nil, flat
  end
  local session = {}
  for i = 1, #flat, 2 do
    session[flat[i]] = flat[i + 1]
  end
  return session, flat
end
