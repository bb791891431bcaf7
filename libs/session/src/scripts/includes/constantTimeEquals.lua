-- Compares two equal-length hex digests without an early exit, so the time taken does not reveal
-- how many leading characters matched.
local function constantTimeEquals(a, b)
  if type(a) ~= 'string' or type(b) ~= 'string' or #a ~= #b then
    return false
  end
  local diff = 0
  for i = 1, #a do
    diff = bit.bor(diff, bit.bxor(string.byte(a, i), string.byte(b, i)))
  end
  return diff == 0
end
