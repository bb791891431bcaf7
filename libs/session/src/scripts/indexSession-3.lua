--[[
  Projection: puts a live session into its user's index and the partition's expiry index
  (on session.created, and on session.rotated with the id it replaces). Idempotent: a replayed
  event for a session that no longer exists changes nothing, so at-least-once delivery and a
  rebuild from the stream both end in the same state.

  Input:
    KEYS[1] session key
    KEYS[2] user's session index (sorted set: sessionId by createdAt)
    KEYS[3] expiry index of the partition (sorted set: "<sessionId>|<userId>" by expiresAt)

    ARGV[1] session id
    ARGV[2] user id
    ARGV[3] replaced session id ('' when none)
    ARGV[4] absolute TTL ms (index entries older than this are dead whatever happened)

  Output:
    {'indexed' | 'gone', removedStale}
]]
--- @include "includes/nowMs"
--- @include "includes/sessionStatus"

local now = nowMs()
if ARGV[3] ~= '' then
  redis.call('ZREM', KEYS[2], ARGV[3])
  redis.call('ZREM', KEYS[3], ARGV[3] .. '|' .. ARGV[2])
end
local removedStale = redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. string.format('%.0f', now - tonumber(ARGV[4])))

local fields = redis.call('HMGET', KEYS[1], 'ca', 'la', 'it', 'ax', 'uid')
if not fields[1] or fields[5] ~= ARGV[2] then
  return {'gone', removedStale}
end
local session = {ca = fields[1], la = fields[2], it = fields[3], ax = fields[4]}
redis.call('ZADD', KEYS[2], session['ca'], ARGV[1])
redis.call('ZADD', KEYS[3], string.format('%.0f', expiresAt(session)), ARGV[1] .. '|' .. ARGV[2])
-- The index lives as long as its longest-lived session, so it never leaks.
local ttl = redis.call('PTTL', KEYS[2])
local wanted = tonumber(session['ax']) - now
if ttl < wanted then
  redis.call('PEXPIRE', KEYS[2], string.format('%.0f', wanted))
end
return {'indexed', removedStale}
