-- Current time in ms from the Redis clock. Every timestamp comes from here, so app instances with
-- skewed clocks still agree on expiry and on the revoke-all epoch.
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
