-- Compares the presented secret's digest with the stored one before anything else is read, so a
-- wrong secret costs the same whatever the session's size. An unknown id is compared with a
-- dummy digest: its cost does not tell a live id from an unknown one.
-- Returns 'ok', 'unknown' or 'bad_secret'.
local UNKNOWN_SESSION_DIGEST = string.rep('0', 64)
local function checkSecret(key, presentedDigest)
  local stored = redis.call('HGET', key, 'sh')
  local equal = constantTimeEquals(stored or UNKNOWN_SESSION_DIGEST, presentedDigest)
  if not stored then
    return 'unknown'
  end
  return equal and 'ok' or 'bad_secret'
end
