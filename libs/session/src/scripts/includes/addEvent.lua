-- Appends a lifecycle event (schema version 1) to a partition stream in the same script as the
-- state change. Two trims, both approximate (whole stream nodes, cheap): by age (entries older
-- than the retention) and by length, a backstop so no burst of writes can grow a stream without
-- bound. XADD takes one trim strategy, so the length trim is a separate XTRIM.
-- Wire format of an entry: pattern = event type, data = JSON payload.
local EVENT_SCHEMA_VERSION = 1
local function addEvent(stream, retentionMs, maxLength, now, eventType, payload)
  payload['v'] = EVENT_SCHEMA_VERSION
  payload['type'] = eventType
  payload['at'] = now
  local minId = string.format('%.0f-0', math.max(0, now - retentionMs))
  local id = redis.call('XADD', stream, 'MINID', '~', minId, '*', 'pattern', eventType, 'data', cjson.encode(payload))
  redis.call('XTRIM', stream, 'MAXLEN', '~', maxLength)
  return id
end
