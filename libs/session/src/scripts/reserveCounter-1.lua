--[[
  Counts one in a rate-limit counter unless it has reached its limit (see reserveCounters).

  Input:
    KEYS[1] counter

    ARGV[1] window ms
    ARGV[2] limit

  Output:
    {0, 0} when counted, else {1, ms left in the window}
]]
--- @include "includes/reserveCounters"

return reserveCounters({KEYS[1]}, tonumber(ARGV[1]), {tonumber(ARGV[2])})
