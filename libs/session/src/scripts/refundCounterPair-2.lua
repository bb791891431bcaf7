--[[
  Gives back one count to two rate-limit counters of one hash slot.

  Input:
    KEYS[1] first counter
    KEYS[2] second counter (same hash slot)

    ARGV[1] unused (scripts take at least one argument)

  Output:
    0
]]
--- @include "includes/refundCounters"

return refundCounters({KEYS[1], KEYS[2]})
