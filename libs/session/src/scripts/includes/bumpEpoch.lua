-- Moves a user's revoke-all epoch forward and returns it. Strictly increasing, even within one
-- millisecond, so a later revoke always covers sessions kept or created since the previous one.
local function bumpEpoch(epochsKey, userId, now)
  local previous = tonumber(redis.call('HGET', epochsKey, userId) or '0')
  local revokedBefore = math.max(now, previous + 1)
  redis.call('HSET', epochsKey, userId, string.format('%.0f', revokedBefore))
  return revokedBefore
end
