--[[
  Drops the revoke-all epochs of a partition that no session can need any more: an epoch covers
  only sessions created at or before it, and those have all reached their absolute expiry once
  `keepMs` has passed. Without this the hash grows by one field per user who ever revoked. Walks
  the hash with HSCAN, one batch per call, so a large hash never blocks Redis.

  Input:
    KEYS[1] revocation epochs of the partition

    ARGV[1] HSCAN cursor ('0' to start)
    ARGV[2] fields to look at per call (HSCAN COUNT)
    ARGV[3] keep ms: how long after an epoch a session it covers may still be alive

  Output:
    {nextCursor, pruned} ('0' when the walk is complete)
]]
--- @include "includes/nowMs"

local reply = redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', tonumber(ARGV[2]))
local fields = reply[2]
local cutoff = nowMs() - tonumber(ARGV[3])
local pruned = 0
for i = 1, #fields, 2 do
  if tonumber(fields[i + 1]) <= cutoff then
    redis.call('HDEL', KEYS[1], fields[i])
    pruned = pruned + 1
  end
end
return {reply[1], pruned}
