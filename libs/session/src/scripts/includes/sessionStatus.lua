-- Why a stored session may no longer be used, or 'ok'.
-- Session fields: ca createdAt, la lastAccessedAt, it idle TTL ms, ax absolute expiry,
-- kt "kept through" epoch (set on the session a revoke-others kept), uid user id.
-- A session is revoked by the user's epoch rb when it was created at or before rb, unless it was
-- kept through an epoch at least as recent.
local function sessionStatus(session, now, epochsKey)
  if now >= tonumber(session['ax']) then
    return 'absolute_expired'
  end
  if now >= tonumber(session['la']) + tonumber(session['it']) then
    return 'idle_expired'
  end
  local revokedBefore = redis.call('HGET', epochsKey, session['uid'])
  if revokedBefore then
    revokedBefore = tonumber(revokedBefore)
    local keptThrough = tonumber(session['kt'] or '-1')
    if tonumber(session['ca']) <= revokedBefore and keptThrough < revokedBefore then
      return 'revoked'
    end
  end
  return 'ok'
end

local function expiresAt(session)
  return math.min(tonumber(session['la']) + tonumber(session['it']), tonumber(session['ax']))
end
