--[[
  Deletes one session and appends session.revoked. Nothing happens (and no event is written) when
  the session does not exist or belongs to another user than the one expected.

  Input:
    KEYS[1] session key
    KEYS[2] event stream of the partition

    ARGV[1] session id
    ARGV[2] reason
    ARGV[3] stream retention ms
    ARGV[4] stream max length
    ARGV[5] expected user id ('' for any)
    ARGV[6] invalidation channel ('' for none)

  Output:
    {'ok', userId} or {'unknown'}
]]
--- @include "includes/nowMs"
--- @include "includes/addEvent"
--- @include "includes/publishInvalidation"

local userId = redis.call('HGET', KEYS[1], 'uid')
if not userId or (ARGV[5] ~= '' and ARGV[5] ~= userId) then
  return {'unknown'}
end
redis.call('DEL', KEYS[1])
local now = nowMs()
addEvent(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]), now, 'session.revoked', {
  sessionId = ARGV[1],
  userId = userId,
  reason = ARGV[2]
})
publishInvalidation(ARGV[6], {k = 'session', id = ARGV[1], uid = userId, r = ARGV[2], at = now})
return {'ok', userId}
