--[[
  Rebuild: settles the index entries of one session whose key may be gone, without racing the
  live worker. Nothing is dropped before its expiry is accounted for:
  - the key exists: {'stored'} (the caller indexes it, or purges it when an epoch revoked it);
  - an event after `after` names the session (or revokes all of its user's): {'changing'}, the
    live consumer owns it;
  - the replay saw it end (`ended`): its entries are dropped, {'dropped', n};
  - the replay expects it live, or does not know it but the expiry index holds it: it expired in
    Redis without its session.expired, so its expiry entry is made due now, {'due'}, and the caller
    runs the normal sweep (expireSession: the event and the cache invalidation);
  - else (an unknown id only the user index holds): the entry is dropped, {'dropped', n}.

  Input:
    KEYS[1] session key
    KEYS[2] user's session index
    KEYS[3] expiry index of the partition
    KEYS[4] event stream of the partition

    ARGV[1] session id
    ARGV[2] user id
    ARGV[3] stream id after which events were not yet read by the caller
    ARGV[4] what the replay up to its snapshot says: 'live' | 'ended' | 'unknown'

  Output:
    {'stored'} | {'changing'} | {'dropped', removed} | {'due'}
]]
--- @include "includes/nowMs"
--- @include "includes/expiryMember"

if redis.call('EXISTS', KEYS[1]) == 1 then
  return {'stored'}
end
local user = cjson.encode(ARGV[2])
for _, entry in ipairs(redis.call('XRANGE', KEYS[4], '(' .. ARGV[3], '+')) do
  local fields = entry[2]
  local pattern, data = '', ''
  for i = 1, #fields, 2 do
    if fields[i] == 'pattern' then pattern = fields[i + 1] end
    if fields[i] == 'data' then data = fields[i + 1] end
  end
  if string.find(data, ARGV[1], 1, true) or
      (pattern == 'user.revoked' and string.find(data, user, 1, true)) then
    return {'changing'}
  end
end
local member = expiryMember(ARGV[1], ARGV[2])
local score = redis.call('ZSCORE', KEYS[3], member)
if ARGV[4] == 'live' or (ARGV[4] == 'unknown' and score) then
  local now = nowMs()
  if not score or tonumber(score) > now then
    redis.call('ZADD', KEYS[3], string.format('%.0f', now), member)
  end
  return {'due'}
end
return {'dropped', redis.call('ZREM', KEYS[2], ARGV[1]) + redis.call('ZREM', KEYS[3], member)}
