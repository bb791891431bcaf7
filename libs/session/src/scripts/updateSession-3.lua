--[[
  Merges a patch into a session's data and appends session.updated naming the keys it changed.
  Only the patched fields are written, so concurrent updates of different keys never overwrite
  each other. A key set to the value it holds, or deleted while absent, is no change: a patch of
  only such keys writes nothing, appends no event and publishes no invalidation.

  Input:
    KEYS[1] session key
    KEYS[2] revocation epochs of the partition
    KEYS[3] event stream of the partition

    ARGV[1] session id
    ARGV[2] max data bytes
    ARGV[3] max data keys
    ARGV[4] stream retention ms
    ARGV[5] stream max length
    ARGV[6] invalidation channel ('' for none)
    ARGV[7..] pairs: field name ('d:<key>'), JSON value ('' deletes the field)

  Output:
    {'ok', dataBytes, changed (1 or 0), field, value, ...} (the whole session after the merge)
    | {'too_large', dataBytes} | {'too_many_keys', dataKeys}
    | {reason} (unknown, idle_expired, absolute_expired, revoked)
]]
--- @include "includes/nowMs"
--- @include "includes/addEvent"
--- @include "includes/publishInvalidation"
--- @include "includes/readSessionState"
--- @include "includes/sessionStatus"
--- @include "includes/appendHash"

local session = readSessionState(KEYS[1])
if not session then
  return {'unknown'}
end
local now = nowMs()
local status = sessionStatus(session, now, KEYS[2])
if status ~= 'ok' then
  return {status}
end

-- Size = sum of (key bytes + JSON bytes); the 'd:' field prefix is not counted.
local dataBytes = tonumber(session['db'] or '0')
local keysBefore = redis.call('HLEN', KEYS[1]) - session.nonDataFields
local dataKeys = keysBefore
local changed = {}
local changedKeys = {}
for i = 7, #ARGV, 2 do
  local field, value = ARGV[i], ARGV[i + 1]
  local keyBytes = #field - 2
  local old = redis.call('HGET', KEYS[1], field)
  if old and value == '' then
    dataBytes = dataBytes - keyBytes - #old
    dataKeys = dataKeys - 1
  elseif old and value ~= old then
    dataBytes = dataBytes - #old + #value
  elseif not old and value ~= '' then
    dataBytes = dataBytes + keyBytes + #value
    dataKeys = dataKeys + 1
  else
    field = nil -- unchanged
  end
  if field then
    changed[#changed + 1] = i
    changedKeys[#changedKeys + 1] = string.sub(field, 3)
  end
end
if dataBytes > tonumber(ARGV[2]) then
  return {'too_large', dataBytes}
end
-- A session stored before the key limit (or under a higher one) may still shrink.
if dataKeys > tonumber(ARGV[3]) and dataKeys > keysBefore then
  return {'too_many_keys', dataKeys}
end
if #changed == 0 then
  return appendHash({'ok', dataBytes, 0}, KEYS[1])
end

for _, i in ipairs(changed) do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[1], ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
redis.call('HSET', KEYS[1], 'db', dataBytes)

addEvent(KEYS[3], tonumber(ARGV[4]), tonumber(ARGV[5]), now, 'session.updated', {
  sessionId = ARGV[1],
  userId = session['uid'],
  keys = changedKeys
})
publishInvalidation(ARGV[6], {k = 'changed', id = ARGV[1], uid = session['uid'], at = now})
return appendHash({'ok', dataBytes, 1}, KEYS[1])
