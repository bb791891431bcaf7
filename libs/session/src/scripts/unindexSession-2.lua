--[[
  Projection: removes a session from its user's index and the expiry index (session.revoked).
  Idempotent.

  Input:
    KEYS[1] user's session index
    KEYS[2] expiry index of the partition

    ARGV[1] session id
    ARGV[2] user id

  Output:
    number of index entries removed
]]
--- @include "includes/expiryMember"

return redis.call('ZREM', KEYS[1], ARGV[1]) + redis.call('ZREM', KEYS[2], expiryMember(ARGV[1], ARGV[2]))
