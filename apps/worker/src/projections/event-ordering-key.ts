/**
 * The user an event belongs to, as the transport decodes it (before parseSessionEvent): events of
 * one user are applied in stream order. The compact format-2 `session.created` names its user `u`
 * (see session-events.ts), every other event `userId`; reading only `userId` left logins
 * unordered with the same user's later events (a rotation could be indexed first).
 */
export function eventOrderingKey(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { userId, u } = data as { userId?: unknown; u?: unknown };
  const user = userId ?? u;
  return typeof user === 'string' ? user : undefined;
}
