--[[
  Gives back one count to a rate-limit counter.

  Input:
    KEYS[1] counter

    ARGV[1] unused (scripts take at least one argument)

  Output:
    0
]]
--- @include "includes/refundCounters"

return refundCounters({KEYS[1]})
