-- Appends a lifecycle event to a partition stream in the same script as the state change. The
-- event holds the version, the type, the time and exactly the fields SESSION_EVENT_SCHEMA lists
-- for its type (copied from `values`). Two trims, both approximate (whole stream nodes, cheap):
-- by age (entries older than the retention) and by length, a backstop so no burst of writes can
-- grow a stream without bound. XADD takes one trim strategy, so the length trim is a separate XTRIM.
-- Wire format of an entry: pattern = event type, data = JSON payload.
--- @include "generated/eventSchema"
local function addEvent(stream, retentionMs, maxLength, now, eventType, values)
  local payload = {v = EVENT_SCHEMA_VERSION, type = eventType, at = now}
  for _, name in ipairs(EVENT_FIELDS[eventType]) do
    payload[name] = values[name]
  end
  local minId = string.format('%.0f-0', math.max(0, now - retentionMs))
  local id = redis.call('XADD', stream, 'MINID', '~', minId, '*', 'pattern', eventType, 'data', cjson.encode(payload))
  redis.call('XTRIM', stream, 'MAXLEN', '~', maxLength)
  return id
end
