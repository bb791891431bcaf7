--[[
  Records the settings every process of a deployment must share (e.g. the partition count) the
  first time any process starts, and returns what is stored, so a process configured differently
  can refuse to start instead of silently writing where the others never look. Reads before it
  writes, so a Redis that refuses writes (out of memory) still answers for a known deployment.

  Input:
    KEYS[1] deployment settings hash

    ARGV[1], ARGV[2], ... pairs: setting name, this process's value

  Output:
    {storedValue, ...} one per pair, in order (the process's own value when it was the first)
]]
local stored = {}
for i = 1, #ARGV, 2 do
  local value = redis.call('HGET', KEYS[1], ARGV[i])
  if not value then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    value = ARGV[i + 1]
  end
  table.insert(stored, value)
end
return stored
