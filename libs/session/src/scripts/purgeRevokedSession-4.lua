--[[
  Clean-up after user.revoked: deletes one session the epoch already revoked and removes it from
  the indexes. Only a session created at or before the epoch and not kept through it is touched,
  so a replay, or a session created after the revoke, is safe. Not a lifecycle change (the
  revocation was, with its event): this only frees memory.

  Input:
    KEYS[1] session key
    KEYS[2] user's session index
    KEYS[3] expiry index of the partition
    KEYS[4] revocation epochs of the partition

    ARGV[1] session id
    ARGV[2] user id

  Output:
    1 when the session was purged, else 0
]]
--- @include "includes/revokedByEpoch"
--- @include "includes/expiryMember"

local revokedBefore = redis.call('HGET', KEYS[4], ARGV[2])
local fields = redis.call('HMGET', KEYS[1], 'ca', 'kt', 'uid')
if fields[1] then
  if fields[3] ~= ARGV[2] or not revokedByEpoch(fields[1], fields[2], revokedBefore) then
    return 0
  end
  redis.call('DEL', KEYS[1])
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], expiryMember(ARGV[1], ARGV[2]))
return fields[1] and 1 or 0
