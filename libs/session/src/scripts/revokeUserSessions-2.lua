--[[
  Revokes every session of a user in O(1) by moving the user's epoch: validation rejects any
  session created at or before it, including one created a moment ago on another instance that no
  index knows yet. Appends user.revoked; the worker deletes the old sessions afterwards.

  Input:
    KEYS[1] revocation epochs of the partition
    KEYS[2] event stream of the partition

    ARGV[1] user id
    ARGV[2] stream retention ms
    ARGV[3] stream max length
    ARGV[4] invalidation channel ('' for none)

  Output:
    {'ok', revokedBefore}
]]
--- @include "includes/nowMs"
--- @include "includes/addEvent"
--- @include "includes/bumpEpoch"
--- @include "includes/publishInvalidation"

local now = nowMs()
local revokedBefore = bumpEpoch(KEYS[1], ARGV[1], now)
addEvent(KEYS[2], tonumber(ARGV[2]), tonumber(ARGV[3]), now, 'user.revoked', {
  userId = ARGV[1],
  revokedBefore = revokedBefore
})
publishInvalidation(ARGV[4], {k = 'user', uid = ARGV[1], rb = revokedBefore, at = now})
return {'ok', revokedBefore}
