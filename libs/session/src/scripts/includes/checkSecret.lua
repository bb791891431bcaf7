-- Compares the presented secret's digest with the stored one before anything else is read, so a
-- wrong secret costs the same whatever the session's size. An unknown id is compared with a
-- dummy digest: its cost does not tell a live id from an unknown one. The stored digest is 64 hex
-- characters (format 1) or 32 raw bytes (format 2); the presented one is hex.
-- Returns 'ok', 'unknown' or 'bad_secret'.
local UNKNOWN_SESSION_DIGEST = string.rep('0', 64)
local function checkSecret(key, presentedDigest)
  local stored = redis.call('HGET', key, 'sh')
  local equal
  if stored and #stored == 32 then
    equal = rawDigestEquals(stored, presentedDigest)
  else
    equal = constantTimeEquals(stored or UNKNOWN_SESSION_DIGEST, presentedDigest)
  end
  if not stored then
    return 'unknown'
  end
  return equal and 'ok' or 'bad_secret'
end
