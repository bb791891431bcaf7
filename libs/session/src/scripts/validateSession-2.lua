--[[
  Validates a session and, at most once per touch interval, extends its idle expiry.
  Reads never append to the stream: the touch is not a lifecycle event.
  The secret is compared before the data is read, so a wrong secret costs the same whatever the
  session's size (and does not tell a large live session from an unknown id by its cost).

  Input:
    KEYS[1] session key
    KEYS[2] revocation epochs of the partition

    ARGV[1] SHA-256 of the presented secret (hex)
    ARGV[2] touch interval ms

  Output:
    {'ok', now, lastAccessedAt, expiresAt, field, value, ...} or {reason}
    reason: unknown | bad_secret | absolute_expired | idle_expired | revoked
]]
--- @include "includes/nowMs"
--- @include "includes/constantTimeEquals"
--- @include "includes/checkSecret"
--- @include "includes/readSessionState"
--- @include "includes/sessionStatus"
--- @include "includes/appendHash"

local secret = checkSecret(KEYS[1], ARGV[1])
if secret ~= 'ok' then
  return {secret}
end
local session = readSessionState(KEYS[1])
local now = nowMs()
local status = sessionStatus(session, now, KEYS[2])
if status ~= 'ok' then
  return {status}
end

if now - tonumber(session['la']) >= tonumber(ARGV[2]) then
  session['la'] = string.format('%.0f', now)
  redis.call('HSET', KEYS[1], 'la', session['la'])
  redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', expiresAt(session)))
end
return appendHash({'ok', now, session['la'], expiresAt(session)}, KEYS[1])
