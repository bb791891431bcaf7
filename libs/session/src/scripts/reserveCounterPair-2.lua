--[[
  Counts one in two rate-limit counters of one hash slot unless either has reached its limit
  (see reserveCounters).

  Input:
    KEYS[1] first counter
    KEYS[2] second counter (same hash slot)

    ARGV[1] window ms
    ARGV[2] limit of KEYS[1]
    ARGV[3] limit of KEYS[2]

  Output:
    {0, 0} when counted, else {i, ms left in KEYS[i]'s window}
]]
--- @include "includes/reserveCounters"

return reserveCounters({KEYS[1], KEYS[2]}, tonumber(ARGV[1]), {tonumber(ARGV[2]), tonumber(ARGV[3])})
