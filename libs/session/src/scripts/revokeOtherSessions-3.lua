--[[
  Revokes every session of a user but one: the epoch moves as in revokeUserSessions, and the kept
  session is marked as kept through the new epoch. Appends user.revoked with the exception.

  Input:
    KEYS[1] revocation epochs of the partition
    KEYS[2] session key of the session to keep
    KEYS[3] event stream of the partition

    ARGV[1] user id
    ARGV[2] id of the session to keep
    ARGV[3] stream retention ms
    ARGV[4] stream max length
    ARGV[5] invalidation channel ('' for none)

  Output:
    {'ok', revokedBefore} or {reason} when the kept session is not a live session of the user
]]
--- @include "includes/nowMs"
--- @include "includes/addEvent"
--- @include "includes/readSessionState"
--- @include "includes/sessionStatus"
--- @include "includes/bumpEpoch"
--- @include "includes/publishInvalidation"

local keep = readSessionState(KEYS[2])
if not keep or keep['uid'] ~= ARGV[1] then
  return {'unknown'}
end
local now = nowMs()
local status = sessionStatus(keep, now, KEYS[1])
if status ~= 'ok' then
  return {status}
end

local revokedBefore = bumpEpoch(KEYS[1], ARGV[1], now)
redis.call('HSET', KEYS[2], 'kt', string.format('%.0f', revokedBefore))
addEvent(KEYS[3], tonumber(ARGV[3]), tonumber(ARGV[4]), now, 'user.revoked', {
  userId = ARGV[1],
  revokedBefore = revokedBefore,
  exceptSessionId = ARGV[2]
})
publishInvalidation(ARGV[5], {k = 'user', uid = ARGV[1], rb = revokedBefore, x = ARGV[2], at = now})
return {'ok', revokedBefore}
