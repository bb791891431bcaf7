--[[
  Renews the lease of entries a consumer still owns: XCLAIM with min-idle 0 resets their idle
  time so XAUTOCLAIM elsewhere leaves them alone; JUSTID leaves the delivery counter untouched
  unless a retry count is given (an in-place retry records its delivery). Entries another
  consumer took over, or that are no longer pending, are skipped.

  Input:
    KEYS[1] stream

    ARGV[1] group
    ARGV[2] consumer
    ARGV[3] retry count, or '' to leave the delivery counter alone
    ARGV[4..] entry ids

  Output:
    the ids renewed
]]
local owned = {}
for i = 4, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if p[1] and p[1][2] == ARGV[2] then owned[#owned + 1] = ARGV[i] end
end
if #owned == 0 then return owned end
local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}
for _, id in ipairs(owned) do args[#args + 1] = id end
if ARGV[3] ~= '' then
  args[#args + 1] = 'RETRYCOUNT'
  args[#args + 1] = ARGV[3]
end
args[#args + 1] = 'JUSTID'
return redis.call(unpack(args))
