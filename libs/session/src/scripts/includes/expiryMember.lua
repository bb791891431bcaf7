-- A member of the expiry index: "<sessionId>|<userId>" (parsed by store/expiry-member.ts).
local function expiryMember(sessionId, userId)
  return sessionId .. '|' .. userId
end
