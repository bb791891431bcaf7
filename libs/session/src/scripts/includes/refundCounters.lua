-- Gives back one count to each counter (a reserved attempt that turned out not to count).
local function refundCounters(keys)
  for _, key in ipairs(keys) do
    if redis.call('DECR', key) <= 0 then
      redis.call('DEL', key)
    end
  end
  return 0
end
