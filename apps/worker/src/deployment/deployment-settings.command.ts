/**
 * Shows, or deliberately changes, the settings stored with the deployment (`<prefix>:deployment`,
 * see libs/session/src/store/deployment-settings.ts), with the configuration of the environment
 * (the same variables as the worker and the api, read by the same code):
 *
 *   npm run deployment:settings              stored vs configured; exit 1 when they differ
 *   npm run deployment:settings -- --adopt   store the configured values (not the partition count)
 *
 * After --adopt, processes configured with the new values start and the others refuse to; the
 * ones already running keep their values until they are restarted with the new configuration.
 */
import { Cluster, Redis } from 'ioredis';
import { ConfigError, LogThrottle, sessionOptionsFromEnv } from '@app/config';
import {
  deploymentSettingsOf,
  FIXED_DEPLOYMENT_SETTINGS,
  resolveSessionOptions,
  SessionStore,
} from '@app/session';
import { commandLogger, stopOnSignals } from '../command-line';
import { loadWorkerConfig } from '../worker.config';

async function main(): Promise<number> {
  const adopt = process.argv.includes('--adopt');
  const config = loadWorkerConfig();
  const client = config.redisClusterNodes
    ? new Cluster(config.redisClusterNodes)
    : new Redis(config.redisUrl);
  const root = commandLogger(config);
  // Every reconnect attempt fails while Redis is away: one line per 10 s, with a count.
  const throttle = new LogThrottle();
  client.on('error', (error: Error) => {
    const line = throttle.line('error', `Redis: ${error.message}`);
    if (line) root.warn(line);
  });
  stopOnSignals('deployment:settings', config, root, async () => client.disconnect());
  try {
    const options = resolveSessionOptions({
      ...sessionOptionsFromEnv(config),
      redis: { client },
    });
    // Not through SessionModule: its start-up check refuses exactly the difference shown here.
    const store = new SessionStore(client, options);
    const configured = Object.fromEntries(deploymentSettingsOf(options));
    const stored = await store.storedDeploymentSettings();
    const differing = Object.keys(configured).filter(
      (name) => stored[name as keyof typeof stored] !== configured[name],
    );
    if (!adopt) {
      console.log(JSON.stringify({ prefix: options.keyPrefix, stored, configured, differing }));
      return differing.length === 0 ? 0 : 1;
    }
    const fixed = differing.filter((name) =>
      FIXED_DEPLOYMENT_SETTINGS.has(name as keyof typeof stored),
    );
    if (fixed.length > 0 && stored[fixed[0] as keyof typeof stored] !== undefined) {
      console.error(
        `${fixed[0]} cannot change in place (stored ${stored[fixed[0] as keyof typeof stored]}, configured ${configured[fixed[0]]}): start a new deployment under another SESSION_PREFIX (README, "Changing the partition count").`,
      );
      return 2;
    }
    const before = await store.adoptDeploymentSettings();
    const after = await store.storedDeploymentSettings();
    console.log(JSON.stringify({ prefix: options.keyPrefix, adopted: true, before, after }));
    return 0;
  } finally {
    client.disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(error instanceof ConfigError ? 2 : 3);
  },
);
