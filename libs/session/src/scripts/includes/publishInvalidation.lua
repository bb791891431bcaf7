-- Tells every app instance to drop a cached session, in the same script as the change, so no
-- code path can change state and forget to tell the caches. Pub/sub is at-most-once: the L1 cache
-- also bounds how long it trusts an entry (maxStaleness), which covers a lost message.
-- Message kinds: session (one session revoked or rotated), changed (data updated),
-- user (revoke-all epoch moved), flush (drop everything).
local function publishInvalidation(channel, message)
  if channel ~= '' then
    redis.call('PUBLISH', channel, cjson.encode(message))
  end
end
