--[[
  Creates a session and appends session.created.

  Input:
    KEYS[1] session key
    KEYS[2] revocation epochs of the partition
    KEYS[3] event stream of the partition

    ARGV[1] session id
    ARGV[2] user id
    ARGV[3] SHA-256 of the secret (hex)
    ARGV[4] CSRF token
    ARGV[5] idle TTL ms
    ARGV[6] absolute TTL ms
    ARGV[7] stream retention ms
    ARGV[8] data size in bytes
    ARGV[9] user agent ('' when none)
    ARGV[10] ip ('' when none)
    ARGV[11] device label ('' when none)
    ARGV[12..] data fields: name, JSON value, ...

  Output:
    {'ok', createdAt, expiresAt, absoluteExpiresAt} or {'exists'}
]]
--- @include "includes/nowMs"
--- @include "includes/addEvent"

if redis.call('EXISTS', KEYS[1]) == 1 then
  return {'exists'}
end

local now = nowMs()
-- Created strictly after the user's last revoke-all, even within the same millisecond.
local revokedBefore = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
local createdAt = math.max(now, revokedBefore + 1)
local idleTtl = tonumber(ARGV[5])
local absoluteExpiresAt = createdAt + tonumber(ARGV[6])
local expiresAt = math.min(createdAt + idleTtl, absoluteExpiresAt)

local fields = {
  'uid', ARGV[2], 'sh', ARGV[3], 'csrf', ARGV[4],
  'ca', string.format('%.0f', createdAt), 'la', string.format('%.0f', createdAt),
  'it', ARGV[5], 'ax', string.format('%.0f', absoluteExpiresAt), 'db', ARGV[8]
}
if ARGV[9] ~= '' then table.insert(fields, 'ua'); table.insert(fields, ARGV[9]) end
if ARGV[10] ~= '' then table.insert(fields, 'ip'); table.insert(fields, ARGV[10]) end
if ARGV[11] ~= '' then table.insert(fields, 'dev'); table.insert(fields, ARGV[11]) end
for i = 12, #ARGV do
  table.insert(fields, ARGV[i])
end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', expiresAt))

addEvent(KEYS[3], tonumber(ARGV[7]), now, 'session.created', {
  sessionId = ARGV[1],
  userId = ARGV[2],
  createdAt = createdAt,
  expiresAt = expiresAt,
  absoluteExpiresAt = absoluteExpiresAt
})
return {'ok', createdAt, expiresAt, absoluteExpiresAt}
