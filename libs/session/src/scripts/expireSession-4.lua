--[[
  Expiry sweep of one expiry-index entry. If the session is still live (a touch extended it), the
  entry is moved to its real expiry time. Otherwise the session is ended: removed from the indexes
  and appended as session.expired, with a cache invalidation. Idempotent: a second run finds
  nothing to do.

  Input:
    KEYS[1] session key
    KEYS[2] user's session index
    KEYS[3] expiry index of the partition
    KEYS[4] event stream of the partition

    ARGV[1] session id
    ARGV[2] user id
    ARGV[3] stream retention ms
    ARGV[4] stream max length
    ARGV[5] invalidation channel ('' for none)

  Output:
    {'alive', expiresAt} | {'expired'} | {'absent'} (the entry was already swept)
]]
--- @include "includes/nowMs"
--- @include "includes/addEvent"
--- @include "includes/publishInvalidation"
--- @include "includes/sessionStatus"
--- @include "includes/expiryMember"

local member = expiryMember(ARGV[1], ARGV[2])
if not redis.call('ZSCORE', KEYS[3], member) then
  return {'absent'}
end
local now = nowMs()
local fields = redis.call('HMGET', KEYS[1], 'ca', 'la', 'it', 'ax')
if fields[1] then
  local session = {ca = fields[1], la = fields[2], it = fields[3], ax = fields[4]}
  local expiry = expiresAt(session)
  if expiry > now then
    redis.call('ZADD', KEYS[3], string.format('%.0f', expiry), member)
    return {'alive', expiry}
  end
  redis.call('DEL', KEYS[1])
end
redis.call('ZREM', KEYS[3], member)
redis.call('ZREM', KEYS[2], ARGV[1])
addEvent(KEYS[4], tonumber(ARGV[3]), tonumber(ARGV[4]), now, 'session.expired', {sessionId = ARGV[1], userId = ARGV[2]})
publishInvalidation(ARGV[5], {k = 'session', id = ARGV[1], uid = ARGV[2], r = 'expired', at = now})
return {'expired'}
