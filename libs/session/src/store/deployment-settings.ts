import type { ResolvedSessionOptions } from '../session-options';

/**
 * The settings every process of a deployment (each api instance, each worker, the rebuild) must
 * share, as stored in `<prefix>:deployment`. A difference loses data silently:
 * - `streamPartitions` decides where a user's keys and events live (a revoke-all through one
 *   process would miss the sessions another wrote);
 * - `absoluteTtlSeconds` bounds a session's life: the worker prunes index entries older than it,
 *   so a worker with a shorter one drops live sessions from device lists and from the limit;
 * - `streamRetentionSeconds` and `streamMaxLength` trim the streams (every writer trims): one
 *   process with a shorter retention drops events a rebuild needs, and the sweep drops revoke-all
 *   epochs older than it (a shorter one would let revoked sessions of a longer TTL back in).
 * The key prefix is the deployment's identity (the name of this hash), so it cannot disagree with
 * itself: a process with another prefix is another deployment (it logs that it created one).
 */
export const DEPLOYMENT_SETTING_NAMES = [
  'streamPartitions',
  'absoluteTtlSeconds',
  'streamRetentionSeconds',
  'streamMaxLength',
] as const;

export type DeploymentSettingName = (typeof DEPLOYMENT_SETTING_NAMES)[number];

/** Settings that cannot change in place: the data would be where no process looks. */
export const FIXED_DEPLOYMENT_SETTINGS: ReadonlySet<DeploymentSettingName> = new Set([
  'streamPartitions',
]);

/** This process's values of the deployment settings, as stored (decimal strings), in order. */
export function deploymentSettingsOf(
  options: Pick<
    ResolvedSessionOptions,
    'streamPartitions' | 'absoluteTtlMs' | 'streamRetentionMs' | 'streamMaxLength'
  >,
): [DeploymentSettingName, string][] {
  return [
    ['streamPartitions', String(options.streamPartitions)],
    ['absoluteTtlSeconds', String(Math.round(options.absoluteTtlMs / 1000))],
    ['streamRetentionSeconds', String(Math.round(options.streamRetentionMs / 1000))],
    ['streamMaxLength', String(options.streamMaxLength)],
  ];
}
