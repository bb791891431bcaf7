// REDIS_URL, else testcontainers, else a spawned redis-server: the library's testing kit's.
export {
  provideTestRedis as provideRedis,
  type ProvidedRedis,
} from '../../libs/session/src/testing';
