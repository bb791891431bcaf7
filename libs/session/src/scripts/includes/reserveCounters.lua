-- Fixed-window counters (the api's rate limits): checks every counter against its limit and, only
-- when none is reached, counts one in each, so a refused request counts nowhere and concurrent
-- requests cannot all slip under a limit. Each counter's window starts with its first count.
-- Returns {0, 0} when counted, else {i, ms left in keys[i]'s window}.
local function reserveCounters(keys, window, limits)
  for i, key in ipairs(keys) do
    if tonumber(redis.call('GET', key) or '0') >= limits[i] then
      local ttl = redis.call('PTTL', key)
      if ttl < 0 then
        redis.call('PEXPIRE', key, window)
        ttl = window
      end
      return {i, ttl}
    end
  end
  for _, key in ipairs(keys) do
    redis.call('INCR', key)
    if redis.call('PTTL', key) < 0 then
      redis.call('PEXPIRE', key, window)
    end
  end
  return {0, 0}
end
