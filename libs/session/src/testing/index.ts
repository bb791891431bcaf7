/**
 * `@app/session/testing`: the real library on a throwaway Redis for an app's tests, and helpers
 * to make authenticated requests. Not imported by production code.
 */
export { authenticateAs, type TestSession } from './authenticated';
export { deleteKeysWithPrefix } from './delete-keys';
export { freePort } from './free-port';
export { InMemorySessions } from './in-memory-sessions';
export { RedisServerProcess, type RedisServerStartOptions } from './redis-server-process';
export {
  SESSION_TESTING_TARGET,
  SessionTestingModule,
  type SessionTestingOptions,
  type SessionTestingTarget,
} from './session-testing.module';
export { type ProvidedRedis, provideTestRedis } from './test-redis-provider';
