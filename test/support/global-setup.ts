import { ensureAppsBuilt } from './built-apps';
import { provideRedis, ProvidedRedis } from './redis-provider';

// globalSetup and globalTeardown run in the same (parent) process, so globalThis carries the handle.
export const PROVIDED_REDIS_KEY = Symbol.for('test-support.provided-redis');
export type GlobalWithRedis = typeof globalThis & { [PROVIDED_REDIS_KEY]?: ProvidedRedis };

export default async function globalSetup(): Promise<void> {
  // Suites start the built apps as a user does (AppProcess): dist/ must be current.
  ensureAppsBuilt();
  const provided = await provideRedis();
  (globalThis as GlobalWithRedis)[PROVIDED_REDIS_KEY] = provided;
  // Workers are forked after this runs and inherit the parent's environment.
  process.env.TEST_REDIS_URL = provided.url;
}
