--[[
  Records the settings every process of a deployment must share (store/deployment-settings.ts:
  the partition count, the absolute TTL, the stream retention and length) the first time any
  process starts, and returns what is stored, so a process configured differently can refuse to
  start instead of silently writing where the others never look. A setting the hash lacks (a
  deployment created by an older release) is claimed with this process's value, unless another
  setting already differs: a refused process writes nothing. Reads before it writes, so a Redis
  that refuses writes (out of memory) still answers for a known deployment.

  Input:
    KEYS[1] deployment settings hash

    ARGV[1], ARGV[2], ... pairs: setting name, this process's value

  Output:
    {storedValue, ...} one per pair, in order (the process's own value where it claimed it)
]]
local stored = {}
local agrees = true
for i = 1, #ARGV, 2 do
  local value = redis.call('HGET', KEYS[1], ARGV[i])
  if value and value ~= ARGV[i + 1] then
    agrees = false
  end
  table.insert(stored, value or false)
end
for i = 1, #ARGV, 2 do
  local at = (i + 1) / 2
  if not stored[at] then
    if agrees then
      redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    end
    stored[at] = ARGV[i + 1]
  end
end
return stored
