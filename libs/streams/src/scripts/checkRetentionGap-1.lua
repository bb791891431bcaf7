--[[
  Retention gap check of one consumer group: were entries trimmed from the stream before the
  group read them? Redis then keeps counting them as unread (XINFO GROUPS `lag` stays up for
  good), and a consumer resuming behind the oldest entry jumps over them silently. Found either
  way:
    - behind: the group's last-delivered id is older than the oldest retained entry, and the
      entries trimmed outnumber those the group read (`entries-read`; a group that never read
      anything, last-delivered 0-0, read none);
    - read past: its `lag` counts more entries than the stream holds after its last-delivered id
      (checked when the lag is at most ARGV[2] entries, to stay cheap).
  A gap found is repaired in the same atomic step: XGROUP SETID to the group's own last-delivered
  id with ENTRIESREAD counting the missed entries as read, so the lag is right again and the same
  gap is not reported twice. Streams with XDEL'd entries after the group's position are skipped
  (their counts are estimates).

  Input:
    KEYS[1] stream

    ARGV[1] group
    ARGV[2] largest lag to verify by reading the entries after the group's position

  Output:
    {} when there is no gap, else {missed (-1 when unknown), lastDeliveredId, firstRetainedId ('' when empty)}
]]
local function record(flat)
  local r = {}
  for i = 1, #flat, 2 do r[flat[i]] = flat[i + 1] end
  return r
end

local function parseId(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end

-- -1, 0 or 1 as a is older than, equal to or newer than b.
local function compareIds(a, b)
  local ams, aseq = parseId(a)
  local bms, bseq = parseId(b)
  if ams ~= bms then return ams < bms and -1 or 1 end
  if aseq ~= bseq then return aseq < bseq and -1 or 1 end
  return 0
end

local stream = record(redis.call('XINFO', 'STREAM', KEYS[1]))
-- Redis before 7.0 keeps no read counters: nothing to compare.
if not stream['entries-added'] then return {} end
local group
for _, flat in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local g = record(flat)
  if g['name'] == ARGV[1] then group = g end
end
if not group then return {} end

local added = tonumber(stream['entries-added'])
local length = tonumber(stream['length'])
local lastDelivered = group['last-delivered-id']
local firstEntry = stream['first-entry']
local firstId = firstEntry and firstEntry[1] or ''
local entriesRead = group['entries-read'] and tonumber(group['entries-read']) or nil
if compareIds(stream['max-deleted-entry-id'], lastDelivered) > 0 then return {} end

local trimmed = added - length
local missed
local behind = compareIds(lastDelivered, firstEntry and firstId or stream['last-generated-id']) < 0
if behind then
  if lastDelivered == '0-0' then entriesRead = 0 end
  if entriesRead == nil then
    missed = -1
  elseif trimmed > entriesRead then
    missed = trimmed - entriesRead
  else
    return {}
  end
  redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], lastDelivered, 'ENTRIESREAD', trimmed)
else
  local lag = group['lag'] and tonumber(group['lag']) or nil
  if entriesRead == nil or lag == nil or lag == 0 or lag > tonumber(ARGV[2]) then return {} end
  local after = #redis.call('XRANGE', KEYS[1], '(' .. lastDelivered, '+', 'COUNT', lag)
  if after >= lag then return {} end
  missed = lag - after
  redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], lastDelivered, 'ENTRIESREAD', added - after)
end
return {missed, lastDelivered, firstId}
