-- Reads the fields a script needs to judge a session, never its data: HMGET of a fixed list costs
-- the same whatever the session's size, so a refused request (wrong secret, expired) is O(1).
-- Returns nil when the session does not exist. `nonDataFields` counts the fields present, so
-- HLEN - nonDataFields is the number of data keys: every field that is not `d:<key>` must be
-- listed here (see session-record.ts).
local SESSION_STATE_FIELDS = {'uid', 'sh', 'csrf', 'ca', 'la', 'it', 'ax', 'db', 'kt', 'ua', 'ip', 'dev'}
local function readSessionState(key)
  local values = redis.call('HMGET', key, unpack(SESSION_STATE_FIELDS))
  if not values[1] then
    return nil
  end
  local session = {nonDataFields = 0}
  for i, name in ipairs(SESSION_STATE_FIELDS) do
    if values[i] then
      session[name] = values[i]
      session.nonDataFields = session.nonDataFields + 1
    end
  end
  return session
end
