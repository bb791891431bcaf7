--[[
  Merges a patch into a session's data and appends session.updated. Only the patched fields are
  written, so concurrent updates of different keys never overwrite each other.

  Input:
    KEYS[1] session key
    KEYS[2] revocation epochs of the partition
    KEYS[3] event stream of the partition

    ARGV[1] session id
    ARGV[2] max data bytes
    ARGV[3] stream retention ms
    ARGV[4] invalidation channel ('' for none)
    ARGV[5..] pairs: field name ('d:<key>'), JSON value ('' deletes the field)

  Output:
    {'ok', dataBytes, field, value, ...} (the whole session after the merge)
    | {'too_large', dataBytes} | {reason} (unknown, idle_expired, absolute_expired, revoked)
]]
--- @include "includes/nowMs"
--- @include "includes/addEvent"
--- @include "includes/publishInvalidation"
--- @include "includes/readSession"
--- @include "includes/sessionStatus"

local session = readSession(KEYS[1])
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
local keys = {}
for i = 5, #ARGV, 2 do
  local field, value = ARGV[i], ARGV[i + 1]
  local keyBytes = #field - 2
  local old = session[field]
  if old then
    dataBytes = dataBytes - keyBytes - #old
  end
  if value ~= '' then
    dataBytes = dataBytes + keyBytes + #value
  end
  table.insert(keys, string.sub(field, 3))
end
if dataBytes > tonumber(ARGV[2]) then
  return {'too_large', dataBytes}
end

for i = 5, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[1], ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
redis.call('HSET', KEYS[1], 'db', dataBytes)

addEvent(KEYS[3], tonumber(ARGV[3]), now, 'session.updated', {
  sessionId = ARGV[1],
  userId = session['uid'],
  keys = keys
})
publishInvalidation(ARGV[4], {k = 'changed', id = ARGV[1], uid = session['uid'], at = now})
return {'ok', dataBytes, unpack(redis.call('HGETALL', KEYS[1]))}
