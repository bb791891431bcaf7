-- Why a stored session may no longer be used, or 'ok'.
-- Session fields: ca createdAt, la lastAccessedAt, it idle TTL ms, ax absolute expiry,
-- kt "kept through" epoch (set on the session a revoke-others kept), uid user id.
--- @include "includes/revokedByEpoch"
local function sessionStatus(session, now, epochsKey)
  if now >= tonumber(session['ax']) then
    return 'absolute_expired'
  end
  if now >= tonumber(session['la']) + tonumber(session['it']) then
    return 'idle_expired'
  end
  local revokedBefore = redis.call('HGET', epochsKey, session['uid'])
  if revokedByEpoch(session['ca'], session['kt'], revokedBefore) then
    return 'revoked'
  end
  return 'ok'
end

local function expiresAt(session)
  return math.min(tonumber(session['la']) + tonumber(session['it']), tonumber(session['ax']))
end
