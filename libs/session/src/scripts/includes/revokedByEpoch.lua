-- The revoke-all rule (its TypeScript twin is store/revocation-rule.ts, tested against this one):
-- a session is revoked by its user's epoch when it was created at or before the epoch, unless a
-- revoke-others kept it through an epoch at least as recent. Arguments as read from Redis
-- (strings, or nil/false when absent); no epoch revokes nothing.
local function revokedByEpoch(createdAt, keptThrough, revokedBefore)
  if not revokedBefore then
    return false
  end
  local epoch = tonumber(revokedBefore)
  return tonumber(createdAt) <= epoch and tonumber(keptThrough or '-1') < epoch
end
