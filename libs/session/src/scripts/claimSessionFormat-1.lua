--[[
  Settles the format (see store/session-format.ts) the deployment's processes write: the stored
  one when set; 1 for a deployment that predates the setting (its settings hash exists without
  it: processes of the previous release may still run and read only format 1); else this
  process's own, for a deployment that starts with it.

  Input:
    KEYS[1] deployment settings hash

    ARGV[1] the format this process writes on a new deployment

  Output:
    the stored format
]]
local stored = redis.call('HGET', KEYS[1], 'format')
if stored then
  return stored
end
local format = redis.call('EXISTS', KEYS[1]) == 1 and '1' or ARGV[1]
redis.call('HSET', KEYS[1], 'format', format)
return format
