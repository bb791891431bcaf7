/**
 * The revoke-all rule, as scripts/includes/revokedByEpoch.lua states it for the scripts: a session
 * is revoked by its user's epoch when it was created at or before the epoch, unless a revoke-others
 * kept it through an epoch at least as recent. No epoch (null) revokes nothing.
 */
export function revokedByEpoch(
  createdAt: number,
  keptThrough: number | null,
  revokedBefore: number | null,
): boolean {
  if (revokedBefore === null) return false;
  return createdAt <= revokedBefore && (keptThrough ?? -1) < revokedBefore;
}
