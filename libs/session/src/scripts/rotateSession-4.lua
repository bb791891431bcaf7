--[[
  Moves a session to a new id and secret (session fixation defence) and appends session.rotated.
  The new key shares the old one's hash tag, so a RENAME (O(1), whatever the data) moves it within
  its slot and the old token is rejected at once. The secret is compared before anything else.

  Input:
    KEYS[1] current session key
    KEYS[2] new session key
    KEYS[3] revocation epochs of the partition
    KEYS[4] event stream of the partition

    ARGV[1] SHA-256 of the presented secret (hex)
    ARGV[2] SHA-256 of the new secret (hex in format 1, 32 raw bytes in format 2)
    ARGV[3] new CSRF token
    ARGV[4] current session id
    ARGV[5] new session id
    ARGV[6] stream retention ms
    ARGV[7] stream max length
    ARGV[8] invalidation channel ('' for none)

  Output:
    {'ok', userId, createdAt, lastAccessedAt, expiresAt, absoluteExpiresAt} or {reason}
]]
--- @include "includes/nowMs"
--- @include "includes/addEvent"
--- @include "includes/publishInvalidation"
--- @include "includes/constantTimeEquals"
--- @include "includes/checkSecret"
--- @include "includes/readSessionState"
--- @include "includes/sessionStatus"

local secret = checkSecret(KEYS[1], ARGV[1])
if secret ~= 'ok' then
  return {secret}
end
local session = readSessionState(KEYS[1])
local now = nowMs()
local status = sessionStatus(session, now, KEYS[3])
if status ~= 'ok' then
  return {status}
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {'exists'}
end

session['la'] = string.format('%.0f', now)
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[2], 'sh', ARGV[2], 'csrf', ARGV[3], 'la', session['la'])
redis.call('PEXPIREAT', KEYS[2], string.format('%.0f', expiresAt(session)))

addEvent(KEYS[4], tonumber(ARGV[6]), tonumber(ARGV[7]), now, 'session.rotated', {
  sessionId = ARGV[5],
  previousSessionId = ARGV[4],
  userId = session['uid'],
  createdAt = tonumber(session['ca']),
  expiresAt = expiresAt(session),
  absoluteExpiresAt = tonumber(session['ax'])
})
publishInvalidation(ARGV[8], {k = 'session', id = ARGV[4], uid = session['uid'], r = 'rotated', at = now})
return {'ok', session['uid'], session['ca'], session['la'], expiresAt(session), session['ax']}
