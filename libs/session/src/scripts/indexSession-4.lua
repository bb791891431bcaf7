--[[
  Projection: puts a live session into its user's index and the partition's expiry index
  (on session.created, and on session.rotated with the id it replaces). Idempotent: a replayed
  event for a session that no longer exists changes nothing, so at-least-once delivery and a
  rebuild from the stream both end in the same state.

  Input:
    KEYS[1] session key
    KEYS[2] user's session index (sorted set: sessionId by createdAt); for a guest session (user
            id '') a key of the session's slot that is never written: guests have no user index
    KEYS[3] expiry index of the partition (sorted set: "<sessionId>|<userId>" by expiresAt)
    KEYS[4] revocation epochs of the partition

    ARGV[1] session id
    ARGV[2] user id
    ARGV[3] replaced session id ('' when none)
    ARGV[4] absolute TTL ms (index entries older than this are dead whatever happened)

  Output:
    {'indexed' | 'gone', removedStale} ('indexed' only for a session put into a user index: a
    guest session is put into the expiry index alone and answers {'guest', 0})
]]
--- @include "includes/sessionStatus"
--- @include "includes/expiryMember"

if ARGV[3] ~= '' then
  redis.call('ZREM', KEYS[2], ARGV[3])
  redis.call('ZREM', KEYS[3], expiryMember(ARGV[3], ARGV[2]))
end
local fields = redis.call('HMGET', KEYS[1], 'ca', 'la', 'it', 'ax', 'uid')
if not fields[1] or fields[5] ~= ARGV[2] then
  return {'gone', 0}
end
local session = {ca = fields[1], la = fields[2], it = fields[3], ax = fields[4]}
if ARGV[2] == '' then
  -- A guest: swept on expiry like any session, but in no user index and under no user's limit.
  redis.call('ZADD', KEYS[3], string.format('%.0f', expiresAt(session)), expiryMember(ARGV[1], ARGV[2]))
  return {'guest', 0}
end
-- Events of one user can arrive out of order (a claimed entry, two workers): a session a later
-- revoke-all already covers is not indexed but deleted, as the revoke-all clean-up would have.
local revokedBefore = redis.call('HGET', KEYS[4], ARGV[2])
if revokedBefore and revokedByEpoch(session['ca'], redis.call('HGET', KEYS[1], 'kt'), revokedBefore) then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], expiryMember(ARGV[1], ARGV[2]))
  return {'gone', 0}
end
-- Entries created more than the absolute TTL before this session are dead by now: prune them.
-- (Relative to this session, so no clock read is needed.)
local staleBefore = tonumber(session['ca']) - tonumber(ARGV[4])
local removedStale = redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. string.format('%.0f', staleBefore))
redis.call('ZADD', KEYS[2], session['ca'], ARGV[1])
redis.call('ZADD', KEYS[3], string.format('%.0f', expiresAt(session)), expiryMember(ARGV[1], ARGV[2]))
-- The index lives as long as its longest-lived session, so it never leaks: NX gives a new index
-- its expiry, GT only ever extends it (GT alone would treat "no expiry" as infinite).
redis.call('PEXPIREAT', KEYS[2], session['ax'], 'NX')
redis.call('PEXPIREAT', KEYS[2], session['ax'], 'GT')
return {'indexed', removedStale}
