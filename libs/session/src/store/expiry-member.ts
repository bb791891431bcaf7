/**
 * A member of a partition's expiry index: `<sessionId>|<userId>`. The user id rides along so the
 * sweep can find the user's index without reading the (possibly already expired) session. Session
 * ids never contain `|`; user ids may, so the first `|` separates. Built in Lua by
 * scripts/includes/expiryMember.lua.
 */
export interface ExpiryMember {
  sessionId: string;
  userId: string;
}

export function expiryMember(sessionId: string, userId: string): string {
  return `${sessionId}|${userId}`;
}

export function parseExpiryMember(member: string): ExpiryMember {
  const separator = member.indexOf('|');
  return { sessionId: member.slice(0, separator), userId: member.slice(separator + 1) };
}
