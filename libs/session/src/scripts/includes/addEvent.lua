-- Appends a lifecycle event (schema version 1) to a partition stream in the same script as the
-- state change. Entries older than the retention are trimmed (approximately, which is cheap).
-- Wire format of an entry: pattern = event type, data = JSON payload.
local EVENT_SCHEMA_VERSION = 1
local function addEvent(stream, retentionMs, now, eventType, payload)
  payload['v'] = EVENT_SCHEMA_VERSION
  payload['type'] = eventType
  payload['at'] = now
  local minId = string.format('%.0f-0', math.max(0, now - retentionMs))
  return redis.call('XADD', stream, 'MINID', '~', minId, '*', 'pattern', eventType, 'data', cjson.encode(payload))
end
