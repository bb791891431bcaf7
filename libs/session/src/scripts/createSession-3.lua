--[[
  Creates a session and appends session.created.

  Input:
    KEYS[1] session key
    KEYS[2] revocation epochs of the partition
    KEYS[3] event stream of the partition

    ARGV[1] user id
    ARGV[2] SHA-256 of the secret (hex in format 1, 32 raw bytes in format 2)
    ARGV[3] CSRF token
    ARGV[4] idle TTL ms
    ARGV[5] absolute TTL ms
    ARGV[6] stream retention ms
    ARGV[7] stream max length
    ARGV[8] data size in bytes
    ARGV[9] session id
    ARGV[10] format of the event: 1, or 2 (compact: short names, expiry times relative to
             createdAt, no type and no time; see session-events.ts)
    ARGV[11..] further hash fields, name and value: ua / ip / dev when known, then the data fields

  Output:
    {'ok', createdAt, expiresAt, absoluteExpiresAt} or {'exists'}

  The hot path of every login, so it is written for speed: the event is concatenated here (only
  the two strings go through cjson.encode, for their escaping), not built as a Lua table for
  cjson, and numbers go to Redis as Lua numbers (integers below 2^53 print in full; 13-digit ms
  timestamps also do with `..`, whose format keeps 14 digits). `npm run bench` (creates): 22 µs
  of Redis time per call, 30–33 µs when the event was a Lua table passed to cjson.encode. Its
  fields are those of SESSION_EVENT_SCHEMA['session.created'] (a test parses what this writes).
]]
--- @include "generated/eventSchema"

if redis.call('EXISTS', KEYS[1]) == 1 then
  return {'exists'}
end

-- The Redis clock: app instances with skewed clocks still agree on expiry and the epoch.
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
-- Created strictly after the user's last revoke-all, even within the same millisecond.
local createdAt = math.max(now, (tonumber(redis.call('HGET', KEYS[2], ARGV[1])) or 0) + 1)
local absoluteExpiresAt = createdAt + ARGV[5]
local expiresAt = math.min(createdAt + ARGV[4], absoluteExpiresAt)

-- `unpack` passes Lua's ~8,000-result limit on large data: the fields beyond the first chunk
-- (only with limits raised far above the defaults) go in further HSETs.
local CHUNK = 2000
local last = math.min(#ARGV, 10 + CHUNK)
redis.call('HSET', KEYS[1], 'uid', ARGV[1], 'sh', ARGV[2], 'csrf', ARGV[3],
  'ca', createdAt, 'la', createdAt, 'it', ARGV[4], 'ax', absoluteExpiresAt, 'db', ARGV[8],
  unpack(ARGV, 11, last))
for first = last + 1, #ARGV, CHUNK do
  redis.call('HSET', KEYS[1], unpack(ARGV, first, math.min(#ARGV, first + CHUNK - 1)))
end
redis.call('PEXPIREAT', KEYS[1], expiresAt)

-- Entries older than the retention are trimmed, and the stream's length is bounded (both
-- approximately, which is cheap; see includes/addEvent.lua).
local event
if ARGV[10] == '2' then
  -- The entry's id carries the time and its pattern the type. createdAt stays: the entry's id
  -- can be later than this clock (a stream whose last id is ahead, after a fail-over).
  event = '{"v":' .. COMPACT_EVENT_VERSION .. ',"s":' .. cjson.encode(ARGV[9]) .. ',"u":' ..
    cjson.encode(ARGV[1]) .. ',"c":' .. createdAt .. ',"e":' .. (expiresAt - createdAt) ..
    ',"a":' .. ARGV[5] .. '}'
else
  event = '{"v":' .. EVENT_SCHEMA_VERSION .. ',"type":"session.created","sessionId":' ..
    cjson.encode(ARGV[9]) .. ',"userId":' .. cjson.encode(ARGV[1]) .. ',"createdAt":' .. createdAt ..
    ',"expiresAt":' .. expiresAt .. ',"absoluteExpiresAt":' .. absoluteExpiresAt .. ',"at":' .. now .. '}'
end
redis.call('XADD', KEYS[3], 'MINID', '~', math.max(0, now - ARGV[6]) .. '-0', '*',
  'pattern', 'session.created', 'data', event)
redis.call('XTRIM', KEYS[3], 'MAXLEN', '~', ARGV[7])
return {'ok', createdAt, expiresAt, absoluteExpiresAt}
