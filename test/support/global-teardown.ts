import { GlobalWithRedis, PROVIDED_REDIS_KEY } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as GlobalWithRedis;
  const provided = g[PROVIDED_REDIS_KEY];
  delete g[PROVIDED_REDIS_KEY];
  await provided?.stop();
}
